"""Parse bulletin files: YAML front matter, then a Markdown body cut into sections.

Pure functions of a file's name and bytes: no database and no settings, so the loader, the
`--check` command and the tests all run exactly the same code.

Sections: a `##`/`###` heading starts a section that runs to the next heading; a paragraph that
opens with a bold lead-in (`**一是专班推进。**…`) is a section of its own, titled by the lead-in,
which stays bold at the start of its paragraph (run in), as the bulletins set it; a bold line
alone titles what follows it as a heading. Paragraphs outside these form untitled sections.
"""

import datetime
import hashlib
import html as html_module
import re
import xml.etree.ElementTree as etree
from dataclasses import dataclass
from functools import cache

from django.utils.text import slugify

# Part of every file's digest: bump it when rendering or indexing changes, so that the next
# load renders and indexes unchanged files anew.
PARSER_VERSION = "8"

FRONT_MATTER_KEYS = ("title", "slug", "region", "source", "byline", "order", "date", "added")
REQUIRED_KEYS = ("title", "slug")
SLUG_RE = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
HEADING_RE = re.compile(r"^(#{1,6})[ \t]+(.+?)[ \t#]*$")
LEAD_IN_RE = re.compile(r"^\*\*(?P<title>[^*\n]+?)\*\*(?P<rest>.*)$", re.S)
FIRST_SENTENCE_RE = re.compile(r"^.*?[。！？](?:[”’」』）])?", re.S)
SUMMARY_MAX = 160
# Characters a text copied from a PDF may carry (form feed, backspace…) that no bulletin means:
# refused with their line, as feeds and pages cannot carry them. Tab and newline are text.
CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
# Characters that change how text is shown without being seen: bidirectional overrides and
# isolates (U+202E turns a title around), refused in the file and in its front matter's values.
UNSEEN_RE = re.compile("[\u202a-\u202e\u2066-\u2069]")
# What looks blank: white space, and the zero-width characters (a body of only these is empty).
BLANK_RE = re.compile(r"[\s\u200b-\u200d\u2060\ufeff]*")
ORDER_RANGE = range(-(2**31), 2**31)  # what the database's integer column holds
SAFE_SCHEMES = ("http:", "https:", "mailto:")
# What a bulletin's fields may hold, as the database's columns do (models.py).
FIELD_LENGTHS = {"title": 300, "region": 50, "source": 200, "byline": 200}
# Bounds on the shape of a body, past which Markdown's work grows out of proportion: its link
# parsing takes minutes on a block of thousands of '[' (4,000: 1.9 s; 8,000: 8 s), and nesting
# recurses (a list 300 deep exhausts Python's stack).
MAX_BRACKETS = 500  # '[' in one block
MAX_DEPTH = 20  # levels of lists and quotations
MAX_HEADING = 300  # characters of a heading or a lead-in: a section's title
MAX_ANCHOR = 80  # characters of a section's id, whatever its title
# The ids that the article page gives its own parts (base.html, article.html): no section takes one.
PAGE_IDS = frozenset({"top", "site-search", "main", "provenance", "contents", "source", "related-title"})
MAX_BLOCKS = 5000  # paragraphs and headings in one bulletin; the loader passes BULLETINS_MAX_BLOCKS


class ContentError(Exception):
    """A problem in one content file, located by line so an editor can go straight to it."""

    def __init__(self, path, line, message):
        super().__init__(path, line, message)
        self.path, self.line, self.message = path, line, message

    def __str__(self):
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(frozen=True)
class Section:
    anchor: str
    title: str
    level: int
    html: str
    paragraphs: tuple  # plain text of each block, in order; block i has id f"{anchor}-p{i+1}"
    run_in: bool = False  # the title is bold at the start of the first paragraph, not a heading


@dataclass(frozen=True)
class Bulletin:
    path: str
    digest: str
    title: str
    slug: str
    slug_line: int
    region: str
    source: str
    byline: str
    order: int
    date: datetime.date | None  # the day the text states, if it states one
    added: datetime.date | None  # the day the bulletin joined this archive: the archive's own fact
    sections: tuple

    @property
    def summary(self):
        return summarize(next(p for section in self.sections for p in section.paragraphs))


def digest(data):
    """The content hash that decides whether a file must be parsed again."""
    return hashlib.sha256(PARSER_VERSION.encode() + b"\0" + data).hexdigest()


def summarize(paragraph):
    """The first sentence of a paragraph, cut to a length a list can show."""
    match = FIRST_SENTENCE_RE.match(paragraph)
    sentence = match.group(0) if match else paragraph
    return sentence if len(sentence) <= SUMMARY_MAX else sentence[: SUMMARY_MAX - 1] + "…"


def parse_bulletin(path, data, max_blocks=MAX_BLOCKS):
    """Parse one file's bytes into a Bulletin, or raise ContentError naming its line."""
    text = decode(path, data)
    meta, lines, body_line = split_front_matter(path, text)
    sections = parse_body(path, lines, body_line, max_blocks)
    return Bulletin(path=path, digest=digest(data), sections=sections, **meta)


def decode(path, data):
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        raise ContentError(path, line, f"not valid UTF-8 (byte {exc.start}: {exc.reason})") from None
    text = text.removeprefix("\ufeff").replace("\r\n", "\n").replace("\r", "\n")
    control = CONTROL_RE.search(text) or UNSEEN_RE.search(text)
    if control:
        line = text.count("\n", 0, control.start()) + 1
        raise ContentError(path, line, f"a control or direction character (U+{ord(control.group(0)):04X}) is not text: remove it")
    return text


def split_front_matter(path, text):
    lines = text.split("\n")
    if not lines or lines[0].strip() != "---":
        raise ContentError(path, 1, "front matter missing: the file must start with a line '---'")
    try:
        end = next(i for i in range(1, len(lines)) if lines[i].strip() == "---")
    except StopIteration:
        raise ContentError(path, 1, "front matter not closed: no second line '---'") from None
    meta = parse_front_matter(path, "\n".join(lines[1:end]), first_line=2)
    return meta, lines[end + 1 :], end + 2


def parse_front_matter(path, source, first_line):
    """The front matter's fields, each value checked as YAML decoded it, or the ContentError of
    the first line at fault."""
    node, values = read_yaml(path, source, first_line)
    lines, raw = key_lines(path, node, first_line)
    check_required(path, values, lines, raw, first_line)
    for key, value in values.items():
        found = isinstance(value, str) and (UNSEEN_RE.search(value) or CONTROL_RE.search(value))
        if found:
            raise ContentError(path, lines[key], f"{key!r} holds U+{ord(found.group(0)):04X}, a control or direction character: remove it")
    slug = values["slug"].strip()
    if not SLUG_RE.match(slug):
        raise ContentError(path, lines["slug"], f"slug {slug!r} must be lower-case ASCII words joined by '-'")
    for key, limit in FIELD_LENGTHS.items():
        value = values["title"].strip() if key == "title" else text_value(path, values, lines, key)
        if len(value) > limit:
            raise ContentError(path, lines[key], f"{key!r} is {len(value):,} characters long: at most {limit}")
    if "/" in text_value(path, values, lines, "region"):
        raise ContentError(path, lines["region"], "'region' names one place, without '/': its page's address is the name")
    return {
        "title": values["title"].strip(),
        "slug": slug,
        "slug_line": lines["slug"],
        "region": text_value(path, values, lines, "region"),
        "source": text_value(path, values, lines, "source"),
        "byline": text_value(path, values, lines, "byline"),
        "order": plain_order(path, values, lines, raw),
        "date": day_value(path, values, lines, "date"),
        "added": day_value(path, values, lines, "added"),
    }


def read_yaml(path, source, first_line):
    """(the front matter's mapping node, its values constructed key by key)."""
    import yaml  # here, not above: a start with no file to parse does not pay for importing it

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(source)  # libyaml's where PyYAML has it
    try:
        node = loader.get_single_node()
        if node is None:
            raise ContentError(path, first_line, "front matter is empty: it needs at least title and slug")
        if not isinstance(node, yaml.MappingNode):
            raise ContentError(path, first_line + node.start_mark.line, "front matter must be 'key: value' lines")
        return node, construct(path, loader, node, first_line)
    except yaml.MarkedYAMLError as exc:
        mark = exc.context_mark or exc.problem_mark  # where the broken construct starts
        line = first_line + (mark.line if mark else 0)
        raise ContentError(path, line, f"front matter is not valid YAML: {exc.problem or exc.context}") from None
    finally:
        loader.dispose()


def key_lines(path, node, first_line):
    """({key: its line}, {key: its value as written}), refusing an unknown key or one written twice."""
    import yaml  # imported by read_yaml already

    lines, raw = {}, {}
    for key_node, value_node in node.value:
        key, line = key_node.value, first_line + key_node.start_mark.line
        raw[key] = value_node.value if isinstance(value_node, yaml.ScalarNode) else None
        if key not in FRONT_MATTER_KEYS:
            known = ", ".join(FRONT_MATTER_KEYS)
            raise ContentError(path, line, f"unknown front-matter key {key!r} (known keys: {known})")
        if key in lines:
            raise ContentError(path, line, f"{key!r} is written twice (first on line {lines[key]})")
        lines[key] = line
    return lines, raw


def check_required(path, values, lines, raw, first_line):
    """Title and slug: text, not empty, and not a value YAML 1.1 read as something else (yes)."""
    for key in REQUIRED_KEYS:
        value = values.get(key)
        if value is not None and not isinstance(value, str) and raw.get(key):
            kind = type(value).__name__
            raise ContentError(path, lines[key], f"{key!r} was read by YAML as a {kind} ({raw[key]}): write it in quotes")
        if not isinstance(value, str) or not value.strip():
            raise ContentError(path, lines.get(key, first_line), f"front matter needs a non-empty {key!r}")


def text_value(path, values, lines, key):
    """An optional text field, stripped; "" where it is not given."""
    value = values.get(key)
    if value is None:
        return ""
    if not isinstance(value, str | int | float):
        raise ContentError(path, lines[key], f"{key!r} must be text")
    return str(value).strip()


def plain_order(path, values, lines, raw):
    """`order`: a whole number written as one (YAML 1.1 reads 190:20:30 as 685230), within ±2^31."""
    order = values.get("order", 0)
    if isinstance(order, int) and not isinstance(order, bool) and raw.get("order") and not re.fullmatch(r"[-+]?\d+", raw["order"].strip()):
        raise ContentError(
            path, lines["order"], f"order must be written as a plain whole number, not {raw['order']!r} (YAML 1.1 reads 1:30 as 90)"
        )
    if isinstance(order, bool) or not isinstance(order, int) or order not in ORDER_RANGE:
        raise ContentError(path, lines["order"], f"order must be a whole number within ±2^31, not {order!r}")
    return order


def day_value(path, values, lines, key):
    """A date field: a day written YYYY-MM-DD, or None."""
    value = values.get(key)
    if value is not None and (not isinstance(value, datetime.date) or isinstance(value, datetime.datetime)):
        raise ContentError(path, lines[key], f"{key} must be written YYYY-MM-DD, not {value!r}")
    return value


def construct(path, loader, node, first_line):
    """The front matter's values, key by key, so that a value YAML reads but Python refuses
    (2023-02-29, a key that is a list) names its own line."""
    values = {}
    for key_node, value_node in node.value:
        try:
            values[loader.construct_object(key_node, deep=True)] = loader.construct_object(value_node, deep=True)
        except (ValueError, OverflowError, TypeError) as exc:
            line = first_line + value_node.start_mark.line
            key = repr(key_node.value) if isinstance(key_node.value, str) else "a key"
            raise ContentError(path, line, f"{key} holds a value that does not exist: {exc}") from None
    return values


def blocks(lines, first_line):
    """Blank-line separated blocks of the body, each with the line it starts on.

    A heading is a block of its own even with no blank line after it, as Markdown allows.
    """
    block, start = [], None
    for number, line in enumerate(lines, start=first_line):
        if HEADING_RE.match(line):
            if block:
                yield start, "\n".join(block)
            yield number, line
            block = []
        elif line.strip():
            if not block:
                start = number
            block.append(line)
        elif block:
            yield start, "\n".join(block)
            block = []
    if block:
        yield start, "\n".join(block)


def parse_body(path, lines, first_line, max_blocks=MAX_BLOCKS):
    """Group the body's blocks into sections and render each one."""
    groups = []  # [title, level, [markdown blocks], run in]
    heading_level = 1
    in_lead_in = False
    for count, (line, block) in enumerate(blocks(lines, first_line), start=1):
        if count > max_blocks:
            raise ContentError(path, line, f"more than {max_blocks:,} paragraphs and headings (BULLETINS_MAX_BLOCKS)")
        check_shape(path, line, block)
        heading = HEADING_RE.match(block)
        lead_in = LEAD_IN_RE.match(block)
        if heading:
            level = len(heading.group(1))
            if level == 1:
                raise ContentError(path, line, "a level-1 heading in the body: the title belongs in the front matter")
            heading_level = level
            groups.append([heading.group(2).strip(), level, [], False])
            in_lead_in = False
            check_title(path, line, groups[-1][0])
        elif lead_in:
            rest = lead_in.group("rest").strip()
            groups.append([lead_in.group("title").strip(), heading_level + 1, [rest] if rest else [], bool(rest)])
            check_title(path, line, groups[-1][0])
            # A lead-in titles its own paragraph; a bold line alone titles what follows it.
            in_lead_in = bool(rest)
        else:
            if not groups or in_lead_in:
                groups.append(["", heading_level, [], False])
                in_lead_in = False
            groups[-1][2].append(block)
    if not any(not BLANK_RE.fullmatch(block) for group in groups for block in group[2]):
        raise ContentError(path, first_line, "the body is empty: a bulletin needs at least one paragraph")

    anchors = set(PAGE_IDS)
    sections = []
    for position, (title, level, body, run_in) in enumerate(groups, start=1):
        anchor = unique_anchor(section_anchor(title, position), anchors)
        try:
            html, paragraphs = render(anchor, "\n\n".join(body), title if run_in else None, level)
        except RecursionError:
            raise ContentError(path, first_line, f"section {position} is nested too deep for Markdown") from None
        sections.append(Section(anchor, title, level, html, paragraphs, run_in))
    return tuple(sections)


def check_shape(path, line, block):
    """Refuse a block whose shape would make Markdown's work grow out of proportion (MAX_BRACKETS, MAX_DEPTH)."""
    if block.count("[") > MAX_BRACKETS:
        raise ContentError(
            path, line, f"{block.count('['):,} '[' in one paragraph: at most {MAX_BRACKETS} (Markdown's links would take minutes)"
        )
    for number, text in enumerate(block.split("\n"), start=line):
        indent = len(text) - len(text.lstrip(" \t>"))
        depth = text[:indent].count(">") + len(text[:indent].replace(">", "").expandtabs(4)) // 4  # Markdown nests by 4 spaces
        if depth > MAX_DEPTH:
            raise ContentError(path, number, f"lists or quotations nested more than {MAX_DEPTH} deep")


def check_title(path, line, title):
    if len(title) > MAX_HEADING:
        raise ContentError(path, line, f"a heading of {len(title):,} characters: at most {MAX_HEADING}")


def section_anchor(title, position):
    """Titled sections take their id from the title, so it survives edits elsewhere; at most
    MAX_ANCHOR characters of it, so that an address stays short whatever the heading."""
    if title:
        return slugify(title, allow_unicode=True)[:MAX_ANCHOR].strip("-") or f"section-{position}"
    return "lead" if position == 1 else f"part-{position}"


def entry(title):
    """A title as a list of contents or a link's name gives it: without the full stop that ends
    a run-in lead-in."""
    return title[:-1] if title.endswith("。") else title


def block_id(anchor, n):
    """The id of a section's n-th block (from 1): stable while that section keeps its id."""
    return f"{anchor}-p{n}"


def unique_anchor(anchor, taken):
    candidate, n = anchor, 1
    while candidate in taken:
        n += 1
        candidate = f"{anchor}-{n}"
    taken.add(candidate)
    return candidate


@cache
def renderer():
    """One Markdown converter per process, reset between sections: building one costs more than a section.

    Markdown is imported here, not above, so that a start with no file to parse does not pay for it.
    """
    import markdown
    from markdown.treeprocessors import Treeprocessor

    class BlockIds(Treeprocessor):
        """Give every top-level block an id (`<anchor>-p<n>`) and collect its plain text, one
        line a block (a wrapped line or a list within it joined with spaces), so that block
        n is line n of the section's text; drop links to anything but the web, mail and
        this site. Each paragraph gets its link, out of the tab order (the section's heading
        link is in it). A run-in title is the section's heading element, shown bold in line
        before the first paragraph's text: a paragraph cannot hold a heading, so that block is
        a div (`lead-paragraph`), whose link is then the section's."""

        anchor = ""
        run_in = None
        level = 2
        paragraphs = ()

        def run(self, root):
            for element in root.iter():
                for name in ("href", "src"):
                    if element.get(name) is not None and not safe_link(element.get(name)):
                        del element.attrib[name]
            self.paragraphs = []
            for n, element in enumerate(root, start=1):
                element.set("id", block_id(self.anchor, n))
                self.paragraphs.append(" ".join(plain(self.md, "".join(element.itertext())).split()))
                if element.tag != "p":
                    continue
                if n == 1 and self.run_in:
                    element.tag = "div"
                    element.set("class", "lead-paragraph")
                    lead_in = etree.Element(f"h{min(self.level, 6)}", {"class": "lead-in"})
                    lead_in.text, lead_in.tail, element.text = self.run_in, element.text, None
                    element.insert(0, lead_in)
                    attributes = {"class": "headerlink", "href": f"#{self.anchor}", "aria-label": f"本节的链接：{entry(self.run_in)}"}
                else:
                    attributes = {"class": "pilcrow", "href": f"#{element.get('id')}", "aria-label": "本段的链接", "tabindex": "-1"}
                etree.SubElement(element, "a", attributes)

    md = markdown.Markdown(output_format="html")
    # Content is text, not markup: raw HTML (a <meta> refresh, a <script>) is shown as written.
    md.preprocessors.deregister("html_block")
    md.inlinePatterns.deregister("html")
    # After inline processing (priority 20), so the text is free of Markdown markers.
    md.treeprocessors.register(BlockIds(md), "block_ids", 5)
    return md


# The placeholders Python-Markdown leaves in an element's text until it serializes it: stashed
# HTML (an entity such as &nbsp;), a backslash escape (1\.), an autolink's ampersands.
STASHED_RE = re.compile("\x02wzxhzdk:(\\d+)\x03")
ESCAPED_RE = re.compile("\x02(\\d+)\x03")
AMPERSAND = "\x02amp\x03"
NUMERIC_REFERENCE_RE = re.compile(r"&#(\d+);")


def plain(md, text):
    """An element's text as a reader reads it: Markdown's placeholders replaced by what they hold."""
    if "\x02" not in text:
        return text

    def stashed(match):
        block = md.htmlStash.rawHtmlBlocks[int(match.group(1))]
        return html_module.unescape(re.sub(r"<[^>]*>", "", block if isinstance(block, str) else etree.tostring(block, "unicode")))

    text = STASHED_RE.sub(stashed, text)
    text = ESCAPED_RE.sub(lambda match: chr(int(match.group(1))), text)
    if AMPERSAND in text:  # an e-mail autolink, its letters written as character references
        text = NUMERIC_REFERENCE_RE.sub(lambda match: chr(int(match.group(1))), text.replace(AMPERSAND, "&"))
    return text.replace("\x02", "").replace("\x03", "")


def safe_link(url):
    """A link to the web, to mail, or within this site: no javascript:, data: or the like,
    judged as the browser reads it, its character references decoded (javascript&#58;)."""
    for _ in range(3):  # &amp;#58; is decoded twice by nobody, but judged as if it were
        url = html_module.unescape(url)
    url = re.sub(r"[\x00-\x20]", "", url)
    scheme = re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", url)
    return scheme is None or scheme.group(0).lower() in SAFE_SCHEMES


def render(anchor, source, run_in=None, level=2):
    md = renderer()
    block_ids = md.treeprocessors["block_ids"]
    block_ids.anchor, block_ids.run_in, block_ids.level = anchor, run_in, level
    html = md.reset().convert(source)
    return html, tuple(block_ids.paragraphs)

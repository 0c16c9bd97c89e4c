"""Marking and quoting what a query matched: pure functions of text and a parsed query.

Matches are found in a text's searchable characters (text.searchable_with_offsets) and mapped
back to the text itself, so marks and snippets agree with the index to the character. A
one-character word left over from a longer query is marked only where the text's own
segmentation has it as a word (text.single_words), never inside a longer word.

A snippet quotes whole clauses of one paragraph, those that hold the query's rarest words, and
a clause that states a figure is quoted with its whole sentence, so that no figure is read
apart from what it counts.
"""

import bisect
import html
import re

from markupsafe import Markup

from .text import searchable, searchable_with_offsets, single_words

SNIPPET_LENGTH = 100  # characters a snippet grows to with the sentences after its best one
SNIPPET_MAX = 180  # characters past which no piece is added or widened
ELLIPSIS = "……"
CLAUSE_MARKS = "，。；：！？、"
SENTENCE_MARKS = "。；！？"
OPENERS, CLOSERS = "“‘《（「『〈【", "”’》）」』〉】"
UNCLOSED = 120  # characters after which an opening quote left open stops holding clauses together
RELATED_VALUE = 0.5  # what a related word's match is worth beside the reader's own word's
# A figure: digits, or a Chinese number with its measure word (五项, 两万人); a year or a day is
# a date, not a figure (2022年, 2月24日).
FIGURE = re.compile(r"\d|[零一二两三四五六七八九十百千万亿]+[个项家名人次所条件户元岁倍]")
DATE = re.compile(r"(?:1[89]|20)\d\d年|\d{1,2}月\d{1,2}日|\d{1,2}月(?=份|底|初|中旬|上旬|下旬)")
CLAUSE_MARK = re.compile(f"[{CLAUSE_MARKS}]")
OPENING = re.compile(f"[{OPENERS}]")
# What holds its clause marks together: a quotation, a title or brackets, closed within UNCLOSED characters.
HELD_TOGETHER = re.compile("|".join(f"{o}[^{o}{c}]{{0,{UNCLOSED}}}{c}" for o, c in zip(OPENERS, CLOSERS, strict=True)))
TAG_OR_REFERENCE = re.compile(r"(<[^>]*>|&#?\w+;)")
FIELD_LABELS = (("region", "地区"), ("byline", "署名"), ("source", "来源"))


def marks_for(query, stream, singles=frozenset()):
    """{string to mark: the query words it meets} for one text, given as its searchable()
    characters; `singles`, the characters that stand as words in it (text.single_words).

    A term of several words is marked whole where it stands whole in the text; its words are
    marked apart only in a text where the whole does not occur.
    """
    marks, covered = {}, set()
    for whole, term_words in query.wholes:
        if whole in stream:
            marks[whole] = frozenset(term_words)
            covered.update(term_words)
    for unit in query.units:
        if unit.word in covered:
            continue
        for form in unit.forms:
            if form in singles if unit.whole_form(form) else form in stream:
                marks.setdefault(form, frozenset())
                marks[form] = marks[form] | {unit.word}
    return marks


def missing(query, streams, singles=frozenset()):
    """The query's words that none of the searchable() texts holds, by itself or by a related word."""
    return [
        unit.word
        for unit in query.units
        if not any(form in singles if unit.whole_form(form) else any(form in stream for stream in streams) for form in unit.forms)
    ]


def spans(text, strings, stream=None, whole=frozenset(), allowed=None):
    """(start, end, string) of each occurrence in `text` of the strings, longest first where they
    overlap. `stream` is text.searchable(text), when the caller has it; a string of `whole`
    counts only where it starts at an offset of `allowed` (text.single_words(text), computed
    if None).

    A string that stands letter for letter in the text as often as in its searchable
    characters, as nearly always, is found in the text itself; only the others are looked for
    in the searchable characters and mapped back (text.searchable_with_offsets).
    """
    stream = searchable(text) if stream is None else stream
    strings = [string for string in strings if string in stream]
    if not strings:
        return []
    if allowed is None and whole.intersection(strings):
        allowed = set(single_words(text))
    mapped = None
    taken = bytearray(len(text) + 1)
    found = []
    for string in sorted(strings, key=len, reverse=True):
        if text.count(string) == stream.count(string):
            where, offsets = text, None
        else:
            mapped = mapped or searchable_with_offsets(text)
            where, offsets = mapped
        at = where.find(string)
        while at != -1:
            start, end = (at, at + len(string)) if offsets is None else (offsets[at], offsets[at + len(string) - 1] + 1)
            if not any(taken[start:end]) and (string not in whole or start in allowed):
                taken[start:end] = b"\1" * (end - start)
                found.append((start, end, string))
            at = where.find(string, at + 1)
    return sorted(found)


def marked(text, found, escape=html.escape):
    """Text with the spans found in <mark>, escaped (plain str: callers wrap it in Markup once).

    escape=str for text that is HTML already."""
    out, last = [], 0
    for start, end, _ in found:
        out += [escape(text[last:start]), "<mark>", escape(text[start:end]), "</mark>"]
        last = end
    out.append(escape(text[last:]))
    return "".join(out)


def mark_text(text, query):
    """A short text (a title) with the query's words marked, as Markup."""
    stream = searchable(text)
    singles = {text[at] for at in single_words(text)} if query.whole_forms else frozenset()
    return Markup(marked(text, spans(text, marks_for(query, stream, singles), whole=query.whole_forms)))


def clauses(text):
    """[(start, end)] of the text's clauses: each ends on a clause mark (，。；：！？、) or at the
    text's end, never inside a quotation, a title or brackets (“…”《…》（…）) that closes within
    UNCLOSED characters."""
    held = HELD_TOGETHER.sub(lambda m: "_" * len(m.group()), text) if OPENING.search(text) else text
    ends = [m.end() for m in CLAUSE_MARK.finditer(held)]
    if not ends or (ends[-1] < len(text) and text[ends[-1] :].strip()):
        ends.append(len(text))
    return list(zip([0, *ends[:-1]], ends, strict=True))


class Clauses:
    """A paragraph's clauses, each with the sentence it belongs to and, when asked, whether it
    states a figure (a year or a day is a date, not a figure)."""

    def __init__(self, text):
        self.text = text
        self.bounds = clauses(text)
        self.starts = [start for start, _ in self.bounds]
        self.sentence = []  # each clause's (first clause, last clause) of its sentence
        first = 0
        for i, (_, end) in enumerate(self.bounds):
            if text[end - 1] in SENTENCE_MARKS or i == len(self.bounds) - 1:
                self.sentence += [(first, i)] * (i - first + 1)
                first = i + 1
        self.figures = {}

    def figure(self, i):
        if i not in self.figures:
            start, end = self.bounds[i]
            self.figures[i] = FIGURE.search(DATE.sub("", self.text[start:end])) is not None
        return self.figures[i]

    def piece(self, i):
        """(first clause, last clause) that quoting clause i takes: its whole sentence if the
        clause states a figure, or if the sentence does and fits a snippet (标准、… 分别提高至1365元)."""
        first, last = self.sentence[i]
        if self.figure(i) or (self.length(first, last) <= SNIPPET_MAX and any(self.figure(n) for n in range(first, last + 1))):
            return first, last
        return i, i

    def span(self, first, last):
        """piece() of every clause from `first` to `last`, as one."""
        pieces = [self.piece(i) for i in range(first, last + 1)]
        return min(p[0] for p in pieces), max(p[1] for p in pieces)

    def of(self, offset):
        """The clause that holds the character at `offset`, or None."""
        i = bisect.bisect_right(self.starts, offset) - 1
        return i if i >= 0 and offset < self.bounds[i][1] else None

    def length(self, first, last):
        return self.bounds[last][1] - self.bounds[first][0]


def quote(text, found, marks, query):
    """The snippet of one paragraph, as Markup: whole clauses, the one that holds the rarest of
    the query's words first, then others for the words it lacks while they fit, each widened
    to its sentence where that fits. `found` is spans(text, marks…)."""
    if not text:
        return Markup("")
    parts = Clauses(text)
    weights = query.weights()
    held = {}  # {clause: {word: value}}, for the clauses that hold a word
    reach = {}  # {clause: the last clause that a match starting in it runs into}
    for start, end, string in found:
        first, last = parts.of(start), parts.of(end - 1)
        if first is None or last is None:
            continue
        reach[first] = max(reach.get(first, first), last)
        words = held.setdefault(first, {})
        for word in marks[string]:
            value = weights.get(word, 1.0) * (1.0 if string == word or len(marks[string]) > 1 else RELATED_VALUE)
            words[word] = max(words.get(word, 0.0), value)
    chosen, uncovered = [], {word for words in held.values() for word in words}
    while uncovered:
        value, best = max((sum(v for w, v in words.items() if w in uncovered), -n) for n, words in held.items())
        best = -best
        if value <= 0:
            break
        piece = parts.span(best, reach[best])
        if chosen and shown(parts, [*chosen, piece]) > SNIPPET_MAX:
            break
        chosen.append(piece)
        uncovered -= {w for n in range(piece[0], piece[1] + 1) for w in held.get(n, ())}
    chosen = widen(parts, chosen or [parts.piece(0)])
    return join_pieces(text, found, [(parts.bounds[first][0], parts.bounds[last][1]) for first, last in merge(chosen)])


def shown(parts, pieces):
    """How many characters the pieces quote together."""
    return sum(parts.length(first, last) for first, last in merge(pieces))


def widen(parts, chosen):
    """Each piece widened to its whole sentence while the snippet stays within SNIPPET_MAX, else
    by whole clauses, back to the sentence's start and on, up to SNIPPET_LENGTH; then, below
    SNIPPET_LENGTH, the first piece by the sentences that follow. A clause that states a figure joins only with
    its whole sentence."""
    chosen = list(chosen)
    for n, (first, last) in enumerate(chosen):
        whole = (parts.sentence[first][0], parts.sentence[last][1])
        if shown(parts, [*chosen[:n], whole, *chosen[n + 1 :]]) <= SNIPPET_MAX:
            chosen[n] = whole
            continue
        while shown(parts, chosen) < SNIPPET_LENGTH:
            options = []
            if first > 0 and parts.sentence[first - 1] == parts.sentence[first]:
                options.append((parts.piece(first - 1)[0], last))
            if last + 1 < len(parts.bounds) and parts.sentence[last + 1] == parts.sentence[last]:
                options.append((first, parts.piece(last + 1)[1]))
            options = [o for o in options if shown(parts, [*chosen[:n], o, *chosen[n + 1 :]]) <= SNIPPET_MAX]
            if not options:
                break
            first, last = chosen[n] = options[0]
    first, last = chosen[0]
    while shown(parts, chosen) < SNIPPET_LENGTH and last + 1 < len(parts.bounds):
        following = (first, parts.sentence[last + 1][1])
        if shown(parts, [following, *chosen[1:]]) > SNIPPET_MAX:
            break
        first, last = chosen[0] = following
    return chosen


def merge(pieces):
    """Pieces (first clause, last clause) in the text's order, those that meet or overlap as one."""
    out = []
    for first, last in sorted(pieces):
        if out and first <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], last))
        else:
            out.append((first, last))
    return out


def join_pieces(text, found, pieces):
    out = []
    for n, (start, end) in enumerate(pieces):
        while start < end and text[start].isspace():
            start += 1
        if start > 0 or n > 0:
            out.append(ELLIPSIS)
        inside = [(s - start, e - start, m) for s, e, m in found if start <= s and e <= end]
        out.append(marked(text[start:end], inside))
        if n == len(pieces) - 1 and end < len(text):
            out.append(ELLIPSIS)
    return Markup("".join(out))


class Quoted:
    """One paragraph of a section as a result shows it: its snippet, and the query's words it lacks."""

    def __init__(self, section, index, query):
        self.query = query
        self.text = section.paragraphs[index]
        stored = section.stream(index)
        self.stream = searchable(self.text) if stored is None else stored
        self.allowed = set(section.single_words(index))
        self.singles = {section.title[at] for at in section.single_words()} | {self.text[at] for at in self.allowed}
        self.own = (searchable(section.title) if stored is None else section.stream()) + self.stream
        self.marks = marks_for(query, self.own, self.singles)

    def snippet(self):
        found = spans(self.text, self.marks, self.stream, self.query.whole_forms, self.allowed)
        return quote(self.text, found, self.marks, self.query)

    def missing(self, fields):
        """Judged at this paragraph, its section's title and its bulletin's own fields (title,
        region, byline, source, date), which the page shows above it."""
        return missing(self.query, [self.own, fields], self.singles)


def fields_quote(article, query):
    """(Markup, where the page shows it) for a bulletin that only its fields matched: the fields
    that hold the query's words, labelled and marked ("provenance", or "source" when only the
    closing （据…） line does); else the bulletin's summary."""
    shown = []
    for name, label in FIELD_LABELS:
        value = getattr(article, name)
        if value and marks_for(query, searchable(value)):
            shown.append((name, Markup(f"{label}：") + mark_text(value, query)))
    if not shown:
        return Markup(html.escape(article.summary)), "provenance"
    where = "source" if [name for name, _ in shown] == ["source"] else "provenance"
    return Markup("；").join(quoted for _, quoted in shown), where


def highlight_html(html_text, strings, whole=frozenset()):
    """Mark the strings in rendered HTML: in its text only, never inside a tag or a character
    reference; a string of `whole` only where the text's segmentation has it as a word."""
    if not strings:
        return Markup(html_text)
    parts = TAG_OR_REFERENCE.split(str(html_text))
    for i in range(0, len(parts), 2):  # text, escaped already and free of references
        parts[i] = marked(parts[i], spans(parts[i], strings, whole=whole), escape=str)
    return Markup("".join(parts))

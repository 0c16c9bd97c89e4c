"""Chinese full-text search over sections, in the database (SQLite FTS5).

Each section is indexed twice over: as jieba words (search mode, with the field's own
dictionary) and as overlapping character bigrams, title and body apart. Words give precision
and rank first; bigrams guarantee that any string of two or more characters that stands in a
bulletin finds that place, however jieba cuts the query, as Elasticsearch's CJK bigrams do.
User text never reaches MATCH raw: every token is quoted.
"""

import operator
import re
import unicodedata
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from django.db import connection
from django.utils.http import urlencode
from markupsafe import Markup, escape

DATA = Path(__file__).resolve().parent / "data"
MAX_QUERY_LENGTH = 100
SNIPPET_LENGTH = 100
# bm25 weights of the columns title_words, body_words, title_grams, body_grams: titles above
# bodies, words above bigrams, so a word match outranks a bigram-only one.
WEIGHTS = (10.0, 3.0, 2.0, 0.6)
WORD_COLUMNS = "{title_words body_words}"
GRAM_COLUMNS = "{title_grams body_grams}"
WORDLIKE = re.compile(r"[^\W_]")  # a letter or digit: what str.isalnum() accepts
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")


# -- data, loaded once per process ----------------------------------------------------------


def data_words(name):
    for line in (DATA / name).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            yield line.split()


@cache
def tokenizer():
    """jieba with the field's dictionary: loaded once per process, at its first search or load.

    Not at start-up: a second's loading would delay the first page, which needs no jieba.
    """
    import jieba

    jieba.setLogLevel(60)
    tk = jieba.Tokenizer()
    tk.load_userdict(str(DATA / "userdict.txt"))
    tk.initialize()
    return tk


@cache
def to_simplified():
    import opencc

    return opencc.OpenCC("t2s").convert


@cache
def stopwords():
    return frozenset(word for words in data_words("stopwords.txt") for word in words)


@cache
def synonyms():
    """Each word of synonyms.txt mapped to its whole group."""
    groups = {}
    for words in data_words("synonyms.txt"):
        for word in words:
            groups[word] = tuple(words)
    return groups


# -- text to tokens (pure) ------------------------------------------------------------------


def normalize(text):
    """Full-width forms to ASCII, lower case, no control characters."""
    return CONTROL.sub(" ", unicodedata.normalize("NFKC", text)).lower()


def is_wordlike(token):
    return WORDLIKE.search(token) is not None


def words(text):
    """Search-mode jieba words: every word and the dictionary words inside it."""
    return normalized_words(normalize(text))


def normalized_words(text):
    return [w for w in tokenizer().cut_for_search(text) if is_wordlike(w)]


def main_words(text):
    """The longest jieba words of a query, the ones that must all match."""
    spans = [(w, start, end) for w, start, end in tokenizer().tokenize(normalize(text), mode="search") if is_wordlike(w)]
    return [w for w, start, end in spans if not any(s <= start and end <= e and (s, e) != (start, end) for _, s, e in spans)]


def bigrams(text):
    """Overlapping character bigrams over the letters and digits, punctuation skipped."""
    return normalized_bigrams(normalize(text))


def normalized_bigrams(text):
    chars = WORDLIKE.findall(text)
    if len(chars) == 1:
        return chars
    return list(map(operator.add, chars, chars[1:]))


def index_columns(article_title, section_title, text):
    """The four columns of a section's row, each text normalized once."""
    title, text = normalize(f"{article_title} {section_title}"), normalize(text)
    return (
        " ".join(normalized_words(title)),
        " ".join(normalized_words(text)),
        " ".join(normalized_bigrams(title)),
        " ".join(normalized_bigrams(text)),
    )


# -- queries (pure) -------------------------------------------------------------------------


def quote(tokens):
    """An FTS5 string: tokens in double quotes, any quote doubled. Nothing else reaches MATCH."""
    return '"' + " ".join(tokens).replace('"', '""') + '"'


def gram_phrase(text):
    grams = bigrams(text)
    return f"{GRAM_COLUMNS} : {quote(grams)}" if grams else None


def any_of(expressions):
    expressions = [e for e in dict.fromkeys(expressions) if e]
    if not expressions:
        return None
    return expressions[0] if len(expressions) == 1 else "(" + " OR ".join(expressions) + ")"


def all_of(expressions):
    expressions = [e for e in expressions if e]
    if not expressions:
        return None
    return expressions[0] if len(expressions) == 1 else "(" + " AND ".join(expressions) + ")"


def word_expression(word):
    """A word matches as a jieba word or as its bigrams in a row; a synonym only as written."""
    expressions = [f"{WORD_COLUMNS} : {quote([word])}", gram_phrase(word)]
    expressions += [gram_phrase(synonym) for synonym in synonyms().get(word, ()) if synonym != word]
    return any_of(expressions)


def term_expression(term):
    """A term typed without spaces: the exact string, or all of its words wherever they stand."""
    content = main_words(term)
    required = [w for w in content if w not in stopwords()] or content
    words_apart = all_of(word_expression(w) for w in required)
    # A one-word term's own expression holds its exact bigrams already.
    expressions = [words_apart] if required == [term] else [gram_phrase(term), words_apart]
    expressions += [gram_phrase(synonym) for synonym in synonyms().get(term, ()) if synonym != term]
    return any_of(expressions)


@dataclass
class Query:
    """A reader's query, parsed: what to MATCH and which strings to mark in the results."""

    text: str = ""
    truncated: bool = False
    expression: str | None = None
    marks: list = field(default_factory=list)

    def __bool__(self):
        return self.expression is not None


def parse_query(raw):
    """Words separated by spaces must all match; "…" asks for the exact phrase."""
    text = " ".join(CONTROL.sub(" ", raw).split())
    query = Query(truncated=len(text) > MAX_QUERY_LENGTH)
    query.text = text = text[:MAX_QUERY_LENGTH]
    simplified = to_simplified()(text)
    expressions, marks = [], []
    for match in re.finditer(r'"([^"]*)"|(\S+)', simplified):
        phrase, term = match.group(1), match.group(2)
        if phrase is not None:
            phrase = " ".join(phrase.split())
            expressions.append(gram_phrase(phrase))
            marks.append(phrase)
            continue
        term = term.replace('"', "")
        expression = term_expression(term)
        if expression:
            expressions.append(expression)
            marks += [term, *synonyms().get(term, ()), *mark_words(term)]
    query.expression = all_of(expressions)
    query.marks = sorted({m.lower() for m in marks if is_wordlike(m)}, key=len, reverse=True)
    return query


def mark_words(term):
    found = []
    for word in main_words(term):
        if word not in stopwords():
            found += synonyms().get(word, (word,))
    return found


# -- marking matches (pure) -----------------------------------------------------------------


def mark_pattern(marks):
    """Matches any mark, skipping punctuation between its letters as the bigram index does."""
    chars = [[ch for ch in mark if ch.isalnum()] for mark in marks]
    alternatives = [r"\W*".join(re.escape(ch) for ch in mark) for mark in chars if mark]
    return re.compile("|".join(alternatives), re.IGNORECASE) if alternatives else None


def snippet(paragraphs, marks, length=SNIPPET_LENGTH):
    """The stretch of about `length` characters that holds the most of the matched words.

    Returns (index of its paragraph, Markup with the matches in <mark>).
    """
    pattern = mark_pattern(marks)
    best = (-1, 0, 0)  # (weight, paragraph index, start)
    for index, paragraph in enumerate(paragraphs):
        found = list(pattern.finditer(paragraph)) if pattern else []
        for first in found or [None]:
            start = first.start() if first else 0
            inside = {m.group(0).lower() for m in found if start <= m.start() and m.end() <= start + length}
            weight = sum(len(word) ** 2 for word in inside)  # a whole phrase beats its parts apart
            if weight > best[0]:
                best = (weight, index, start)
    _, index, start = best
    paragraph = paragraphs[index]
    start = max(0, min(start - length // 5, len(paragraph) - length))
    end = min(len(paragraph), start + length)
    text = mark_text(paragraph[start:end], pattern)
    return index, Markup(("…" if start else "") + text + ("…" if end < len(paragraph) else ""))


def mark_text(text, pattern):
    """Escaped text with every match wrapped in <mark>."""
    if pattern is None:
        return str(escape(text))
    out, last = [], 0
    for match in pattern.finditer(text):
        out += [str(escape(text[last : match.start()])), "<mark>", str(escape(match.group(0))), "</mark>"]
        last = match.end()
    out.append(str(escape(text[last:])))
    return "".join(out)


def highlight_html(markup, marks):
    """Mark the matches in rendered HTML, in text only, never inside a tag or a character reference."""
    pattern = mark_pattern(marks)  # letters and digits only: the same in escaped HTML
    if pattern is None:
        return Markup(markup)
    parts = re.split(r"(<[^>]*>|&#?\w+;)", str(markup))
    for i in range(0, len(parts), 2):
        parts[i] = pattern.sub(lambda m: f"<mark>{m.group(0)}</mark>", parts[i])
    return Markup("".join(parts))


def parse_marks(value, limit=10):
    """The ?hl= words of an article link: a few plain words, nothing else."""
    marks = [normalize(w)[:30] for w in CONTROL.sub(" ", value).split()[:limit]]
    return sorted({m for m in marks if is_wordlike(m)}, key=len, reverse=True)


# -- the index in the database --------------------------------------------------------------


def section_columns(texts):
    """index_columns of an (article title, section title, text) triple, for a pool's map."""
    return index_columns(*texts)


def index_sections(sections, segment=map):
    """Add saved sections, each with its article, to the index (a trigger takes deleted ones out).

    `segment` maps section_columns over the sections' texts: the built-in map, or a pool's.
    """
    columns = segment(section_columns, [(s.article.title, s.title, s.text) for s in sections])
    with connection.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO search_index (rowid, title_words, body_words, title_grams, body_grams) VALUES (%s, %s, %s, %s, %s)",
            [(s.pk, *row) for s, row in zip(sections, columns, strict=True)],
        )
        cursor.executemany(
            "INSERT INTO search_region (section_id, region) VALUES (%s, %s)", [(s.pk, s.article.region) for s in sections]
        )


@dataclass
class Hit:
    section_id: int
    score: float


def matches(query, region=None, limit=10, offset=0):
    """Hits for a parsed query, best first, with the total and the count per region.

    One statement evaluates the MATCH once: FTS5 scores every match before it can sort, and
    the region counts are taken from the same scored rows, as SQLite keeps them
    (MATERIALIZED) rather than matching again. Regions come from the narrow search_region
    table: the FTS5 table's stored rows and the wide section and article tables are not read.
    """
    if not query:
        return [], 0, {}
    weights = ", ".join(str(w) for w in WEIGHTS)
    ranked = "m" if region is None else "m JOIN search_region r ON r.section_id = m.id WHERE r.region = %s"
    sql = f"""
        WITH m AS MATERIALIZED (
            SELECT rowid AS id, bm25(search_index, {weights}) AS score FROM search_index WHERE search_index MATCH %s
        )
        SELECT r.region, count(*), NULL FROM m JOIN search_region r ON r.section_id = m.id GROUP BY r.region
        UNION ALL
        SELECT * FROM (SELECT NULL, m.id, m.score FROM {ranked} ORDER BY m.score, m.id LIMIT %s OFFSET %s)
    """
    params = [query.expression, *([] if region is None else [region]), limit, offset]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        rows = cursor.fetchall()
    regions = dict(sorted(((name, count) for name, count, score in rows if score is None), key=lambda item: (-item[1], item[0])))
    # Sorted again: SQL promises no order for the rows of a UNION, whatever its parts' ORDER BY.
    ranked_rows = sorted((score, section_id) for name, section_id, score in rows if score is not None)
    hits = [Hit(section_id, -score) for score, section_id in ranked_rows]
    total = regions.get(region, 0) if region else sum(regions.values())
    return hits, total, regions


@dataclass
class Result:
    section: object
    url: str
    snippet: Markup
    score: float


@dataclass
class Results:
    query: Query
    total: int
    regions: dict
    results: list


def search(raw, region=None, limit=10, offset=0):
    """Search the published sections: each result links to the paragraph that matched best."""
    from .models import Section

    query = parse_query(raw)
    hits, total, regions = matches(query, region=region, limit=limit, offset=offset)
    sections = Section.objects.for_results([hit.section_id for hit in hits])
    results = []
    hl = urlencode({"hl": " ".join(query.marks)}) if query.marks else ""
    for hit in hits:
        section = sections[hit.section_id]
        index, text = snippet(section.paragraphs, query.marks)
        fragment = section.fragment() if len(section.paragraphs) == 1 else section.fragment(index)
        url = f"{section.article.get_absolute_url()}{'?' + hl if hl else ''}#{fragment}"
        results.append(Result(section, url, text, round(hit.score, 4)))
    return Results(query, total, regions, results)

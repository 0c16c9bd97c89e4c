"""A reader's query, parsed into the words that count, and turned into tantivy queries.

Readers type keywords, several words, questions in their own words, traditional script and
figures. Each meaningful word (a unit) may be met by itself or by a word the bulletins use for
it (the thesaurus); question and function words are dropped. A section is listed when it holds
any unit and ranked first by how many units it holds, then by BM25 (a query of one unit by
BM25 alone, which tantivy ranks fastest); a term typed without spaces that stands whole ranks
above its words apart; a quoted phrase must stand as written.
"""

import re
from dataclasses import dataclass, field

from .index import BULLETIN_FIELDS, MAX_GRAM, OWN_FIELDS, SCORED_FIELDS, schema
from .text import CONTROL, searchable, stopwords, thesaurus, to_simplified, words

MAX_QUERY_LENGTH = 100
MAX_WORD = 4  # the longest run of jieba's words that parse() joins into one: a word, not a phrase
COVERAGE = 1000.0  # per unit held: above any sum of BM25 scores, so coverage ranks first
FIELD_WEIGHTS = {"title": 3.0, "body": 1.0, "meta": 2.0}
RELATED_WEIGHT = 0.9  # a thesaurus word counts a little less than the reader's own
WHOLE_WEIGHT = 2.0  # a term of several words standing whole, as typed
TIE_BREAKER = 0.1  # what a unit's other fields add to its best one
LIFT_SCORE = 2.0  # a unit that a section's bulletin holds in its fields
TERM_RE = re.compile(r'"([^"]*)"|“([^”]*)”|(\S+)')


@dataclass(frozen=True)
class Unit:
    """A word of the query that counts: `forms` are the strings that meet it, the word first."""

    word: str
    forms: tuple
    required: bool = False


@dataclass
class Query:
    text: str = ""
    truncated: bool = False
    units: list = field(default_factory=list)
    wholes: list = field(default_factory=list)  # (term as typed, its units' words), for terms of several

    def __bool__(self):
        return bool(self.units)


def clean(raw):
    """The query as shown back: no control characters, spaces folded, at most MAX_QUERY_LENGTH."""
    text = " ".join(CONTROL.sub(" ", raw).split())
    return text[:MAX_QUERY_LENGTH], len(text) > MAX_QUERY_LENGTH


def parse(raw, occurs=None):
    """The query's units and wholes. `occurs(string)` tells whether a string of up to MAX_GRAM
    characters stands anywhere in the archive (index.occurs); with it, a word that jieba cut
    apart but that stands whole in the archive (社会救助, not 社会 and 救助) is one unit."""
    text, truncated = clean(raw)
    query = Query(text=text, truncated=truncated)
    terms, phrases = [], []
    for match in TERM_RE.finditer(to_simplified()(text)):
        quoted = match.group(1) if match.group(1) is not None else match.group(2)
        if quoted is not None:
            if searchable(quoted):
                phrases.append(searchable(quoted))
        else:
            terms.append((searchable(match.group(3)), words(match.group(3))))
    every = [w for _, ws in terms for w in ws]
    meaningful = {w for w in every if w not in stopwords()} or set(every)
    units = {}
    for phrase in phrases:
        units[phrase] = Unit(phrase, (phrase,), required=True)
    for whole, term_words in terms:
        kept = list(dict.fromkeys(joined([w if w in meaningful else None for w in term_words], occurs)))
        for word in kept:
            units.setdefault(word, Unit(word, (word, *(s for s in map(searchable, thesaurus().get(word, ())) if s))))
        if len(kept) > 1 and whole not in units:
            query.wholes.append((whole, kept))
    query.units = list(units.values())
    return query


def joined(term_words, occurs):
    """The meaningful words of a term (None for the others), adjacent ones joined into the
    longest run of up to MAX_WORD characters that occurs() finds in the archive: a word that
    jieba cut in two (社会救助), not a phrase (县里召开会议), which stays words to rank by."""
    out, i = [], 0
    while i < len(term_words):
        if term_words[i] is None:
            i += 1
            continue
        end = i + 1
        if occurs is not None:
            for j in range(len(term_words), i + 1, -1):
                run = term_words[i:j]
                if None not in run and len("".join(run)) <= MAX_WORD and occurs("".join(run)):
                    end = j
                    break
        out.append("".join(term_words[i:end]))
        i = end
    return out


# -- tantivy queries --------------------------------------------------------------------------


def tantivy():
    import tantivy as module

    return module


def contains(field_name, string):
    """Documents whose field holds `string`: one term, or a chain of overlapping terms."""
    t = tantivy()
    option = "basic" if field_name == "alltext" else "freq"
    if len(string) <= MAX_GRAM:
        return t.Query.term_query(schema(), field_name, string, index_option=option)
    starts = [*range(0, len(string) - MAX_GRAM, MAX_GRAM // 2), len(string) - MAX_GRAM]
    chain = [(t.Occur.Must, t.Query.term_query(schema(), field_name, string[i : i + MAX_GRAM], index_option=option)) for i in starts]
    return t.Query.boost_query(t.Query.boolean_query(chain), 1 / len(starts))


def any_of(queries):
    t = tantivy()
    return queries[0] if len(queries) == 1 else t.Query.boolean_query([(t.Occur.Should, q) for q in queries])


def unit_matches(unit, fields):
    return any_of([contains(name, form) for form in unit.forms for name in fields])


def unit_scored(unit):
    """A unit's score: that of its best form (a related word a little less).

    A form that the section's bulletin holds in its fields scores LIFT_SCORE in all its
    sections, whichever of them repeat it, so the other words of the query choose among them.
    Otherwise a form scores the BM25 of its best field, as Elasticsearch's best_fields.
    """
    t = tantivy()
    forms = []
    for i, form in enumerate(unit.forms):
        weight = 1.0 if i == 0 else RELATED_WEIGHT
        own = [t.Query.boost_query(contains(name, form), FIELD_WEIGHTS[name] * weight) for name in OWN_FIELDS]
        best = t.Query.disjunction_max_query(own, tie_breaker=TIE_BREAKER)
        in_fields = contains("lift", form)
        forms.append(
            t.Query.boolean_query(
                [
                    (t.Occur.Should, t.Query.const_score_query(in_fields, LIFT_SCORE * weight)),
                    (t.Occur.Should, t.Query.boolean_query([(t.Occur.Must, best), (t.Occur.MustNot, in_fields)])),
                ]
            )
        )
    return forms[0] if len(forms) == 1 else t.Query.disjunction_max_query(forms, tie_breaker=TIE_BREAKER)


def region_filter(region):
    t = tantivy()
    return [(t.Occur.Must, t.Query.term_query(schema(), "region", region, index_option="basic"))] if region else []


def matching(query, region=None, fields=OWN_FIELDS):
    """The clauses that decide which documents a query lists: any unit in `fields`, every quoted
    phrase, the region. With fields=SECTION_FIELDS, sections only."""
    t = tantivy()
    clauses = [(t.Occur.Must, any_of([unit_matches(u, fields) for u in query.units]))]
    clauses += [(t.Occur.Must, unit_matches(u, SCORED_FIELDS)) for u in query.units if u.required]
    clauses = [(occur, t.Query.const_score_query(q, 0.0)) for occur, q in clauses]  # they match; they do not score
    return clauses + region_filter(region)


def places_count_query(query, region=None, fields=OWN_FIELDS):
    """places_query without its scoring: for counting, which visits every match."""
    return tantivy().Query.boolean_query(matching(query, region, fields))


def places_query(query, region=None):
    """Sections (and bulletins, by their fields) that hold a unit, ranked by coverage then BM25."""
    if len(query.units) == 1:
        return one_unit_query(query.units[0], region)
    t = tantivy()
    clauses = matching(query, region)
    for unit in query.units:
        clauses.append((t.Occur.Should, t.Query.const_score_query(unit_matches(unit, SCORED_FIELDS), COVERAGE)))
        clauses.append((t.Occur.Should, unit_scored(unit)))
    for whole, _ in query.wholes:
        for name in ("title", "body"):
            clauses.append((t.Occur.Should, t.Query.boost_query(contains(name, whole), WHOLE_WEIGHT * FIELD_WEIGHTS[name])))
    return t.Query.boolean_query(clauses)


def one_unit_query(unit, region=None):
    """A query of one word: a disjunction of its terms, each field and form weighted.

    Every match holds the word, so coverage ranks nothing, and with one word a bulletin's
    fields have no other word to give way to: nothing needs more than BM25. A disjunction of
    terms is what tantivy ranks with block-max WAND, stopping early instead of scoring every
    match (bench/search_latency.py measures it).
    """
    t = tantivy()
    forms = [
        t.Query.boolean_query(
            [(t.Occur.Should, t.Query.boost_query(contains(name, form), FIELD_WEIGHTS[name] * weight)) for name in OWN_FIELDS]
        )
        for form, weight in zip(unit.forms, (1.0, *[RELATED_WEIGHT] * (len(unit.forms) - 1)), strict=True)
    ]
    # The best form, not the sum: a section that says 未保 is not outranked by one that says
    # both 未保 and 未成年人保护 fewer times.
    best = forms[0] if len(forms) == 1 else t.Query.disjunction_max_query(forms, tie_breaker=TIE_BREAKER)
    return t.Query.boolean_query([(t.Occur.Must, best), *region_filter(region)]) if region else best


def bulletins_query(query, region=None, fields=BULLETIN_FIELDS):
    """Bulletin documents that hold a unit anywhere (or, with fields=("alltext",), in their
    sections): for counting bulletins, in all and by region."""
    t = tantivy()
    clauses = [(t.Occur.Must, any_of([unit_matches(u, fields) for u in query.units]))]
    clauses += [(t.Occur.Must, unit_matches(u, fields)) for u in query.units if u.required]
    return t.Query.boolean_query(clauses + region_filter(region))


def in_articles(query, article_ids):
    """`query` within the bulletins of `article_ids`: a disjunction of their terms, which
    tantivy intersects with the query faster than a term set (a third of the time for a page's
    ten bulletins)."""
    t = tantivy()
    ids = any_of([t.Query.term_query(schema(), "article_id", article_id) for article_id in article_ids])
    return t.Query.boolean_query([(t.Occur.Must, query), (t.Occur.Must, t.Query.const_score_query(ids, 0.0))])

"""A reader's query, parsed into the words that count, and turned into tantivy queries.

Readers type keywords, several words, questions in their own words, traditional script and
figures. Each meaningful word (a unit) may be met by itself or by a word the bulletins use for
it (the thesaurus); question and function words are dropped, and so is a one-character word
left over from a longer query that no text has as a word of its own. A paragraph is listed
when it holds any unit and ranked first by the units it holds, each weighed by how rare it is
in the archive, then by BM25 (a query of one word by BM25 alone, which tantivy ranks fastest);
a term typed without spaces that stands whole ranks above its words apart; a quoted phrase
must stand as written.
"""

import contextvars
import re
from dataclasses import dataclass, field, replace

from .index import BULLETIN_FIELDS, MAX_GRAM, OWN_FIELDS, SCORED_FIELDS, SINGLES, schema
from .text import CONTROL, searchable, stopwords, thesaurus, to_simplified, words

MAX_QUERY_LENGTH = 100
MAX_WORD = 4  # the longest run of jieba's words that parse() joins into one: a word, not a phrase
COVERAGE = 1000.0  # per unit held: above any sum of BM25 scores, so coverage ranks first
FIELD_WEIGHTS = {"title": 3.0, "body": 1.0, "meta": 2.0}
RELATED_WEIGHT = 0.9  # a thesaurus word's BM25 counts a little less than the reader's own word's
RELATED_COVERAGE = 0.5  # and its coverage half as much
ONE_WORD_RELATED = 0.3  # in a query of one word, what a related word's BM25 weighs
WHOLE_WEIGHT = 2.0  # a term of several words standing whole, as typed
TIE_BREAKER = 0.1  # what a unit's other fields add to its best one
LIFT_SCORE = 2.0  # a unit that a paragraph's bulletin holds in its fields
LIFTED_BM25 = 0.2  # and what remains of the BM25 of a paragraph that holds it in its own text
TERM_RE = re.compile(r'"([^"]*)"|“([^”]*)”|(\S+)')


@dataclass(frozen=True)
class Unit:
    """A word of the query that counts: `forms` are the strings that meet it, the word first.

    `weight` is how rare it is in the archive (index.Stats.weight): rare words decide. In a
    `whole` unit (a one-character word left over from a longer query), a form of one character
    meets only a word of the text's own segmentation, never a character inside a longer word.
    """

    word: str
    forms: tuple
    required: bool = False
    whole: bool = False
    weight: float = 1.0

    def whole_form(self, form):
        return self.whole and len(form) == 1


@dataclass
class Query:
    text: str = ""
    truncated: bool = False
    units: list = field(default_factory=list)
    wholes: list = field(default_factory=list)  # (term as typed, its units' words), for terms of several
    ignored: list = field(default_factory=list)  # one-character words that no text holds as a word: filler
    absent: list = field(default_factory=list)  # words that no text of the archive holds, in any form

    def __bool__(self):
        return bool(self.units)

    @property
    def whole_forms(self):
        """The one-character forms that meet only whole words."""
        return frozenset(form for unit in self.units for form in unit.forms if unit.whole_form(form))

    def weights(self):
        return {unit.word: unit.weight for unit in self.units}


def clean(raw):
    """The query as shown back: no control characters, spaces folded, at most MAX_QUERY_LENGTH."""
    text = " ".join(CONTROL.sub(" ", raw).split())
    return text[:MAX_QUERY_LENGTH], len(text) > MAX_QUERY_LENGTH


def parse(raw, stats=None):
    """The query's units and wholes. `stats` (index.Stats) tells how often a string stands in the
    archive; with it, a word that jieba cut apart but that stands whole in the archive
    (社会救助, not 社会 and 救助) is one unit, each unit weighs as rare as it is, and a
    one-character word that no text holds as a word is dropped as filler."""
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
    occurs = stats.occurs if stats is not None else None
    units = {}
    for phrase in phrases:
        units[phrase] = Unit(phrase, (phrase,), required=True)
    for whole, term_words in terms:
        kept = list(dict.fromkeys(joined([w if w in meaningful else None for w in term_words], occurs)))
        for word in kept:
            units.setdefault(word, Unit(word, (word, *(s for s in map(searchable, thesaurus().get(word, ())) if s))))
        if len(kept) > 1 and whole not in units:
            query.wholes.append((whole, kept))
    # A character alone is what the reader asked for; beside longer words, it is a word or filler.
    # A related word that the query holds as a unit of its own counts for that unit alone
    # (老人 and 养老: 养老 does not hold 老人 too).
    longer = any(len(word) > 1 for word in units)
    query.units = [
        replace(
            unit,
            forms=(unit.word, *(form for form in unit.forms[1:] if form not in units)),
            whole=longer and len(unit.word) == 1 and not unit.required,
        )
        for unit in units.values()
    ]
    if stats is not None:
        held = {unit.word: stats.frequency(unit) for unit in query.units}
        query.units = [replace(unit, weight=stats.weight(held[unit.word])) for unit in query.units]
        query.ignored = [unit.word for unit in query.units if unit.whole and not held[unit.word]]
        query.absent = [unit.word for unit in query.units if not unit.whole and not held[unit.word]]
        query.units = [unit for unit in query.units if unit.word not in query.ignored]
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


# The bulletins that the queries being built are restricted to (places_query(articles=…)): each
# term is, so that tantivy intersects every clause with a page's few documents first.
RESTRICTED = contextvars.ContextVar("restricted", default=None)


def term(field_name, value, option="freq"):
    """A term query, within the bulletins of RESTRICTED when it is set."""
    t = tantivy()
    found = t.Query.term_query(schema(), field_name, value, index_option=option)
    restricted = RESTRICTED.get()
    return found if restricted is None else t.Query.boolean_query([(t.Occur.Must, found), (t.Occur.Must, restricted)])


def contains(field_name, string):
    """Documents whose field holds `string`: one term, or a chain of overlapping terms."""
    t = tantivy()
    option = "basic" if field_name == "alltext" else "freq"
    if len(string) <= MAX_GRAM:
        return term(field_name, string, option)
    starts = [*range(0, len(string) - MAX_GRAM, MAX_GRAM // 2), len(string) - MAX_GRAM]
    chain = [(t.Occur.Must, term(field_name, string[i : i + MAX_GRAM], option)) for i in starts]
    return t.Query.boost_query(t.Query.boolean_query(chain), 1 / len(starts))


def form_in(unit, form, field_name):
    """Documents whose field holds one form of a unit, or None: a whole-word form is met in
    `singles`, the one-character words of a text (never in a bulletin's fields)."""
    if not unit.whole_form(form):
        return contains(field_name, form)
    if field_name in ("meta", "lift"):
        return None
    return term(SINGLES, form)


def any_of(queries):
    t = tantivy()
    queries = [q for q in queries if q is not None]
    if not queries:
        return t.Query.empty_query()
    return queries[0] if len(queries) == 1 else t.Query.boolean_query([(t.Occur.Should, q) for q in queries])


def unit_matches(unit, fields, forms=None):
    return any_of([form_in(unit, form, name) for form in forms or unit.forms for name in fields])


def unit_covered(unit):
    """What holding a unit adds: COVERAGE times its weight, so that rare words decide, and less
    for a related word than for the reader's own (a section that says 未保 four times does not
    outrank one that says 未成年人保护 once). A bulletin's fields (its title names 重庆) hold
    the word for each of its paragraphs."""
    t = tantivy()
    full = COVERAGE * unit.weight
    own = t.Query.const_score_query(unit_matches(unit, SCORED_FIELDS, unit.forms[:1]), full)
    if len(unit.forms) == 1:
        return own
    related = t.Query.const_score_query(unit_matches(unit, SCORED_FIELDS, unit.forms[1:]), full * RELATED_COVERAGE)
    return t.Query.disjunction_max_query([own, related])


def unit_scored(unit):
    """A unit's score: the BM25 of its best form in its best field, as Elasticsearch's
    best_fields (a related word a little less).

    A form that the paragraph's bulletin holds in its fields scores LIFT_SCORE in all its
    paragraphs instead, and a fifth of its BM25 in those whose own text holds it too: a paragraph
    that repeats the city's name does not outrank one that holds the query's other words more
    often, yet where the title holds every word, the paragraph that holds them too comes first.
    """
    t = tantivy()
    forms = []
    for i, form in enumerate(unit.forms):
        weight = 1.0 if i == 0 else RELATED_WEIGHT
        if unit.whole_form(form):
            forms.append(t.Query.boost_query(form_in(unit, form, "body"), weight))
            continue
        own = [t.Query.boost_query(contains(name, form), FIELD_WEIGHTS[name] * weight) for name in OWN_FIELDS]
        best = t.Query.disjunction_max_query(own, tie_breaker=TIE_BREAKER)
        in_fields = contains("lift", form)
        held = t.Query.boost_query(contains("body", form), LIFTED_BM25 * weight)
        lifted_and_held = t.Query.boolean_query([(t.Occur.Must, t.Query.const_score_query(in_fields, 0.0)), (t.Occur.Must, held)])
        forms.append(
            t.Query.boolean_query(
                [
                    (t.Occur.Should, t.Query.const_score_query(in_fields, LIFT_SCORE * weight)),
                    (t.Occur.Should, lifted_and_held),
                    (t.Occur.Should, t.Query.boolean_query([(t.Occur.Must, best), (t.Occur.MustNot, in_fields)])),
                ]
            )
        )
    return forms[0] if len(forms) == 1 else t.Query.disjunction_max_query(forms, tie_breaker=TIE_BREAKER)


def region_filter(region):
    t = tantivy()
    return [(t.Occur.Must, term("region", region, "basic"))] if region else []


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


def places_query(query, region=None, articles=None):
    """Paragraphs (and bulletins, by their fields) that hold a unit, ranked by the weight of the
    units they hold (rare words decide), then BM25; with `articles` (ids), within those
    bulletins only, scored alike.

    Restricted term by term (RESTRICTED) and clause by clause: a restriction of the whole query
    would still score every document that its optional clauses hold, three times the work for
    a page's bulletins.
    """
    restricted = None if articles is None else in_articles(articles)
    token = RESTRICTED.set(restricted)
    try:
        if len(query.units) == 1:
            return one_unit_query(query.units[0], region)
        t = tantivy()
        clauses = matching(query, region)
        for unit in query.units:
            clauses.append((t.Occur.Should, unit_covered(unit)))
            clauses.append((t.Occur.Should, unit_scored(unit)))
        for whole, _ in query.wholes:
            for name in ("title", "body"):
                clauses.append((t.Occur.Should, t.Query.boost_query(contains(name, whole), WHOLE_WEIGHT * FIELD_WEIGHTS[name])))
        if restricted is not None:  # and clause by clause
            clauses = [(occur, t.Query.boolean_query([(t.Occur.Must, clause), (t.Occur.Must, restricted)])) for occur, clause in clauses]
        return t.Query.boolean_query(clauses)
    finally:
        RESTRICTED.reset(token)


def in_articles(articles):
    """The documents of the bulletins of `articles` (ids), scoring nothing."""
    t = tantivy()
    ids = any_of([t.Query.term_query(schema(), "article_id", article_id) for article_id in articles])
    return t.Query.const_score_query(ids, 0.0)


def within(tantivy_query, articles):
    """`tantivy_query` within the bulletins of `articles`, its scores unchanged."""
    t = tantivy()
    return t.Query.boolean_query([(t.Occur.Must, tantivy_query), (t.Occur.Must, in_articles(articles))])


def one_unit_query(unit, region=None):
    """A query of one word: a disjunction of its terms, each field and form weighted.

    Every match holds the word, so coverage ranks nothing, and with one word a bulletin's
    fields have no other word to give way to: nothing needs more than BM25. A disjunction of
    terms is what tantivy ranks with block-max WAND, stopping early instead of scoring every
    match (bench/search_latency.py measures it). A related word weighs ONE_WORD_RELATED of
    the reader's own, so that the word as typed comes first (未保 four times does not
    outrank 未成年人保护 once).
    """
    t = tantivy()
    forms = [
        t.Query.boolean_query(
            [(t.Occur.Should, t.Query.boost_query(contains(name, form), FIELD_WEIGHTS[name] * weight)) for name in OWN_FIELDS]
        )
        for form, weight in zip(unit.forms, (1.0, *[ONE_WORD_RELATED] * (len(unit.forms) - 1)), strict=True)
    ]
    best = forms[0] if len(forms) == 1 else t.Query.disjunction_max_query(forms, tie_breaker=TIE_BREAKER)
    return t.Query.boolean_query([(t.Occur.Must, best), *region_filter(region)]) if region else best


def bulletins_query(query, region=None, fields=BULLETIN_FIELDS):
    """Bulletin documents that hold a unit anywhere (or, with fields=("alltext",), in their
    sections): for counting bulletins, in all and by region."""
    t = tantivy()
    clauses = [(t.Occur.Must, any_of([unit_matches(u, fields) for u in query.units]))]
    clauses += [(t.Occur.Must, unit_matches(u, fields)) for u in query.units if u.required]
    return t.Query.boolean_query(clauses + region_filter(region))

"""Chinese search over the published bulletins: one entry per bulletin, each leading to its places.

The package's modules say what they hold: `text` (normalizing, jieba, the data files), `query`
(a reader's words and the tantivy queries made of them), `index` (the index's versions on
disk) and `marks` (marking and quoting). This module answers a search: matching and ranking
in the index, then the paragraphs read from the database and quoted.
"""

import functools
from dataclasses import dataclass, field

from markupsafe import Markup

from ..content import entry
from ..models import one_version
from . import index, marks, suggest, text
from .index import SECTION_FIELDS
from .query import MAX_QUERY_LENGTH, bulletins_query, parse, places_count_query, places_query, within
from .text import is_searchable, to_simplified

__all__ = [
    "MAX_QUERY_LENGTH",
    "Entry",
    "Place",
    "Results",
    "is_searchable",
    "load_dictionaries",
    "parse",
    "parse_query",
    "places",
    "search",
]

PLACES_SHOWN = 3  # under each bulletin on the results page
DETAIL_LIMIT = 10_000  # places read for the bulletins of one page of results
FIRST_FETCH = 160  # hits a search asks tantivy for at first: enough, mostly, to see past the ties at a page's end
PROVENANCE = "provenance"  # the id of the block under a bulletin's title that shows its fields
SOURCE = "source"  # the id of the closing （据…） line that shows its source


@dataclass
class Place:
    """A paragraph that a query matched, or the bulletin itself (section None) when only its
    fields did; `fragment` is where it leads in the bulletin's page."""

    article: object
    section: object
    paragraph: int
    fragment: str
    snippet: Markup
    score: float
    missing: list

    @property
    def name(self):
        """How the results name it: its section's title, or 第 n 段 as the page counts paragraphs."""
        if self.section is None:
            return ""
        if self.section.title and (self.paragraph == 0 or self.section.run_in):
            return entry(self.section.title)
        if self.section.title:
            return f"{entry(self.section.title)} · 第 {self.section.number(self.paragraph)} 段"
        return f"第 {self.section.number(self.paragraph)} 段"

    @property
    def paragraph_id(self):
        return self.section.block_id(self.paragraph) if self.section is not None else None


@dataclass
class Entry:
    """One bulletin of the results, with its best places and how many more it has; `first` is
    where it leads: its best place, or the bulletin itself."""

    article: object
    first: Place
    places: list
    more: int
    title: Markup = field(default_factory=Markup)


@dataclass
class Results:
    query: object
    total: int = 0  # places
    bulletins: int = 0
    regions: dict = field(default_factory=dict)  # {region: bulletins}
    entries: list = field(default_factory=list)
    places: list = field(default_factory=list)
    suggestion: str | None = None  # 您是不是要找：the query with its absent words corrected

    @property
    def partial(self):
        """Whether every place listed lacks some of the query's words."""
        listed = [place for entry in self.entries for place in [entry.first, *entry.places]] + self.places
        return bool(listed) and all(place.missing for place in listed)


def load_dictionaries():
    """Load what reading a query takes (jieba's dictionary, OpenCC's, pypinyin's readings): once
    a process, and not a search's work."""
    text.tokenizer()
    text.to_simplified()
    suggest.homophones()


def current_searcher():
    """The searcher of the index version that the published content names, or None when nothing
    is published; index.Unavailable when that version is missing or damaged."""
    from ..models import ContentState

    name = ContentState.index_name()
    return index.searcher(name) if name or ContentState.current() is not None else None


def hit_ids(searcher, hits):
    """[(score, article id, section id, paragraph)] of tantivy's hits, best first; equal scores
    in an order that depends on the content alone (index.stable), not on ids or segments."""
    addresses = [address for _, address in hits]
    rows = zip(
        [score for score, _ in hits],
        searcher.fast_field_values("stable", addresses),
        searcher.fast_field_values("article_id", addresses),
        searcher.fast_field_values("section_id", addresses),
        searcher.fast_field_values("paragraph", addresses),
        strict=True,
    )
    return [(score, a, s, p) for score, _, a, s, p in sorted(rows, key=lambda r: (-r[0], r[1]))]


def top_hits(searcher, tantivy_query, fetch, needed):
    """The best hits, as hit_ids() gives them, enough of them that the answer is the same
    whatever the index's layout. `needed([(score, article id, section id)])`, in tantivy's
    order, is the index of the last hit the answer uses (None: not enough yet). tantivy keeps an
    arbitrary few of the hits that tie with the last one it returns, so more are fetched until
    the last one needed scores above that; then only the hits down to its score are read and
    ordered, ties by the content's key."""
    while True:
        hits = searcher.search(tantivy_query, limit=fetch, count=False).hits
        scores = [score for score, _ in hits]
        last, read = None, 0
        while last is None and read < len(hits):  # the fields of as few hits as the answer takes
            read = min(len(hits), max(4 * read, 64))
            addresses = [address for _, address in hits[:read]]
            fields = (searcher.fast_field_values(name, addresses) for name in ("article_id", "section_id"))
            last = needed(list(zip(scores, *fields, strict=False)))
        if len(hits) < fetch or (last is not None and scores[last] > scores[-1]):
            end = len(hits) if last is None else next((i for i in range(last, len(hits)) if scores[i] < scores[last]), len(hits))
            return hit_ids(searcher, hits[:end])
        fetch *= 4


def count(searcher, tantivy_query):
    return searcher.search(tantivy_query, limit=1, count=True).count


def counts(searcher, query, region):
    """(places, bulletins, {region: bulletins}): the regions' counts are over every region.

    A bulletin that its fields alone match is one place; one that its paragraphs match has a
    place for each of them.
    """
    buckets = searcher.aggregate(bulletins_query(query), {"regions": {"terms": {"field": "region", "size": 10_000}}})
    regions = {b["key"]: b["doc_count"] for b in buckets["regions"]["buckets"]}
    regions = dict(sorted(regions.items(), key=lambda item: (-item[1], item[0])))
    bulletins = regions.get(region, 0) if region else sum(regions.values())
    paragraphs = count(searcher, places_count_query(query, region, SECTION_FIELDS))
    by_paragraphs = count(searcher, bulletins_query(query, region, ("alltext",)))
    return paragraphs + bulletins - by_paragraphs, bulletins, regions


def parse_query(raw):
    """(parsed query, searcher): parsed against the published index, the searcher None if there is none."""
    searcher = current_searcher()
    return parse(raw, index.Stats(searcher) if searcher else None), searcher


def begin(raw, region):
    """(parsed query, its ranked tantivy query, empty Results, searcher or None when there is
    nothing to search); where no text holds some of the query's words, the Results suggest a
    correction."""
    query, searcher = parse_query(raw)
    results = Results(query)
    if searcher is not None and query.absent:
        results.suggestion = suggest.suggestion(query, index.Stats(searcher), to_simplified()(query.text))
    searcher = searcher if query else None
    return query, places_query(query, region) if searcher is not None else None, results, searcher


def over_one_version(function):
    """A search of the reader's words `raw`, on one snapshot of the database (models.one_version):
    the empty Results where there is nothing to search, else function(query, its ranked query,
    the Results to fill, the searcher, region, limit, offset)."""

    @one_version
    @functools.wraps(function)
    def search_of(raw, region=None, limit=10, offset=0):
        query, ranked_query, results, searcher = begin(raw, region)
        if searcher is None:
            return results
        return function(query, ranked_query, results, searcher, region, limit, offset)

    return search_of


@over_one_version
def search(query, ranked_query, results, searcher, region, limit, offset):
    """One page of results: `limit` bulletins from the `offset`-th, each with its best places."""
    wanted = offset + limit

    def needed(hits):  # the first hit of the last bulletin of the page
        seen = {}
        for i, (_, article_id, _) in enumerate(hits):
            if seen.setdefault(article_id, i) == i and len(seen) == wanted:
                return i
        return None

    hits = top_hits(searcher, ranked_query, max(16 * wanted, FIRST_FETCH), needed)
    order = list(dict.fromkeys(article_id for _, article_id, _, _ in hits))
    results.total, results.bulletins, results.regions = counts(searcher, query, region)
    page = order[offset:wanted]
    if not page:
        return results
    detail = hit_ids(searcher, searcher.search(places_query(query, region, page), limit=DETAIL_LIMIT, count=False).hits)
    found = {}
    for score, article_id, section_id, paragraph in detail:
        found.setdefault(article_id, []).append((score, article_id, section_id, paragraph))
    shown = {article_id: [hit for hit in found[article_id] if hit[2]][:PLACES_SHOWN] for article_id in page}
    places_by_id = build_places(query, [hit for a in page for hit in shown[a]], page)
    for article_id in page:
        article_places = [places_by_id[hit[1:]] for hit in shown[article_id]]
        first = article_places[0] if article_places else places_by_id[(article_id, 0, 0)]
        results.entries.append(
            Entry(
                article=first.article,
                first=first,
                places=article_places,
                more=sum(1 for hit in found[article_id] if hit[2]) - len(article_places),
                title=marks.mark_text(first.article.title, query),
            )
        )
    return results


@over_one_version
def places(query, ranked_query, results, searcher, region, limit, offset):
    """Places best first, for the API: paragraphs, and bulletins matched by their fields alone."""
    wanted = offset + limit
    with_paragraphs = {}  # {article id: whether its paragraphs match}: a bulletin is a place of its own only when none does

    def kept(hits):
        unknown = {a for _, a, s, *_ in hits if not s and a not in with_paragraphs}
        if unknown:
            held = searcher.search(within(bulletins_query(query, region, ("alltext",)), unknown), limit=len(unknown))
            matched = set(searcher.fast_field_values("article_id", [address for _, address in held.hits]))
            with_paragraphs.update({a: a in matched for a in unknown})
        return [i for i, (_, a, s, *_) in enumerate(hits) if s or not with_paragraphs[a]]

    def needed(hits):
        indexes = kept(hits)
        return indexes[wanted - 1] if len(indexes) >= wanted else None

    hits = top_hits(searcher, ranked_query, max(4 * wanted, FIRST_FETCH), needed)
    hits = [hits[i] for i in kept(hits)][offset:wanted]
    results.total, results.bulletins, results.regions = counts(searcher, query, region)
    found = build_places(query, hits, {article_id for _, article_id, _, _ in hits})
    results.places = [found[hit[1:]] for hit in hits]
    return results


def build_places(query, hits, article_ids):
    """{(article id, section id, paragraph): Place} for the hits (score, article id, section id,
    paragraph). Section id 0 stands for the bulletin itself, which is built too for each of
    `article_ids` that has no paragraph among the hits."""
    from ..models import Article, Section

    sections = Section.objects.for_results({section_id for _, _, section_id, _ in hits if section_id})
    articles = Article.objects.summaries(set(article_ids) | {article_id for _, article_id, _, _ in hits})
    fields = {article_id: " ".join(index.article_fields(article)) for article_id, article in articles.items()}
    built = {}
    for score, article_id, section_id, paragraph in hits:
        if not section_id:
            continue
        section, article = sections[section_id], articles[article_id]
        section.article = article
        quoted = marks.Quoted(section, paragraph, query)
        built[(article_id, section_id, paragraph)] = Place(
            article=article,
            section=section,
            paragraph=paragraph,
            fragment=section.fragment() if len(section.paragraphs) == 1 else section.fragment(paragraph),
            snippet=quoted.snippet(),
            score=round(score, 4),
            missing=quoted.missing(fields[article_id]),
        )
    with_paragraphs = {article_id for article_id, _, _ in built}
    scores = {article_id: score for score, article_id, section_id, _ in hits if not section_id}
    for article_id, article in articles.items():
        if article_id in with_paragraphs and article_id not in scores:
            continue
        snippet, shown_in = marks.fields_quote(article, query)
        built[(article_id, 0, 0)] = Place(
            article=article,
            section=None,
            paragraph=0,
            fragment=SOURCE if shown_in == "source" else PROVENANCE,
            snippet=snippet,
            score=round(scores.get(article_id, 0.0), 4),
            missing=marks.missing(query, [fields[article_id]]),
        )
    return built

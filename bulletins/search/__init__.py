"""Chinese search over the published bulletins: one entry per bulletin, each leading to its places.

The package's modules say what they hold: `text` (normalizing, jieba, the data files), `query`
(a reader's words and the tantivy queries made of them), `index` (the index's versions on
disk) and `marks` (marking and quoting). This module answers a search: matching and ranking
in the index, then the sections read from the database and quoted.
"""

from dataclasses import dataclass, field

from markupsafe import Markup, escape

from ..models import one_version
from . import index, marks
from .index import SECTION_FIELDS
from .query import MAX_QUERY_LENGTH, bulletins_query, in_articles, parse, places_count_query, places_query
from .text import is_searchable, prepared, searchable

__all__ = ["MAX_QUERY_LENGTH", "Entry", "Place", "Results", "is_searchable", "parse", "parse_query", "places", "search"]

PLACES_SHOWN = 3  # under each bulletin on the results page
DETAIL_LIMIT = 10_000  # places read for the bulletins of one page of results


@dataclass
class Place:
    """A section that a query matched, or the bulletin itself (section None) when its fields did;
    `fragment` is the section's, or its quoted paragraph's, in the bulletin's page ("" for none)."""

    article: object
    section: object
    fragment: str
    snippet: Markup
    score: float
    missing: list


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


def current_searcher():
    """The searcher of the index version that the published content names, or None."""
    from ..models import ContentState

    name = ContentState.index_name()
    return index.searcher(name) if index.exists(name) else None


def hit_ids(searcher, hits):
    """[(score, article id, section id)] of tantivy's hits, best first; equal scores in an order
    that depends on the content alone (index.stable), not on ids or segments."""
    addresses = [address for _, address in hits]
    rows = zip(
        [score for score, _ in hits],
        searcher.fast_field_values("stable", addresses),
        searcher.fast_field_values("article_id", addresses),
        searcher.fast_field_values("section_id", addresses),
        strict=True,
    )
    return [(score, article_id, section_id) for score, _, article_id, section_id in sorted(rows, key=lambda r: (-r[0], r[1]))]


def count(searcher, tantivy_query):
    return searcher.search(tantivy_query, limit=1, count=True).count


def counts(searcher, query, region):
    """(places, bulletins, {region: bulletins}): the regions' counts are over every region.

    A bulletin that its fields alone match is one place; one that its sections match has a
    place for each of them.
    """
    buckets = searcher.aggregate(bulletins_query(query), {"regions": {"terms": {"field": "region", "size": 10_000}}})
    regions = {b["key"]: b["doc_count"] for b in buckets["regions"]["buckets"]}
    regions = dict(sorted(regions.items(), key=lambda item: (-item[1], item[0])))
    bulletins = regions.get(region, 0) if region else sum(regions.values())
    sections = count(searcher, places_count_query(query, region, SECTION_FIELDS))
    by_sections = count(searcher, bulletins_query(query, region, ("alltext",)))
    return sections + bulletins - by_sections, bulletins, regions


def parse_query(raw):
    """(parsed query, searcher): parsed against the published index, the searcher None if there is none."""
    searcher = current_searcher()
    return parse(raw, index.occurs(searcher) if searcher else None), searcher


def begin(raw):
    """(parsed query, empty Results, searcher or None when there is nothing to search)."""
    query, searcher = parse_query(raw)
    return query, Results(query), searcher if query else None


@one_version
def search(raw, region=None, limit=10, offset=0):
    """One page of results: `limit` bulletins from the `offset`-th, each with its best places."""
    query, results, searcher = begin(raw)
    if searcher is None:
        return results
    ranked_query = places_query(query, region)
    wanted, fetch = offset + limit, max(4 * (offset + limit), 40)
    while True:  # without counting every match: counts() takes the totals from cheaper queries
        ranked = searcher.search(ranked_query, limit=fetch, count=False)
        order = list(dict.fromkeys(article_id for _, article_id, _ in hit_ids(searcher, ranked.hits)))
        if len(order) >= wanted or len(ranked.hits) < fetch:
            break
        fetch *= 4
    results.total, results.bulletins, results.regions = counts(searcher, query, region)
    page = order[offset:wanted]
    if not page:
        return results
    detail = searcher.search(in_articles(ranked_query, page), limit=DETAIL_LIMIT, count=False)
    found = {}
    for score, article_id, section_id in hit_ids(searcher, detail.hits):
        found.setdefault(article_id, []).append((score, section_id))
    shown = {article_id: [s for s in found[article_id] if s[1]][:PLACES_SHOWN] for article_id in page}
    places_by_id = build_places(query, [(score, a, s) for a in page for score, s in shown[a]], page)
    for article_id in page:
        article_places = [places_by_id[(article_id, s)] for _, s in shown[article_id]]
        first = article_places[0] if article_places else places_by_id[(article_id, 0)]
        results.entries.append(
            Entry(
                article=first.article,
                first=first,
                places=article_places,
                more=sum(1 for _, s in found[article_id] if s) - len(article_places),
                title=marks.highlight_html(escape(first.article.title), marks.marks_for(query, searchable(first.article.title))),
            )
        )
    return results


@one_version
def places(raw, region=None, limit=10, offset=0):
    """Places best first, for the API: sections, and bulletins matched by their fields alone."""
    query, results, searcher = begin(raw)
    if searcher is None:
        return results
    ranked_query, wanted = places_query(query, region), offset + limit
    fetch = wanted
    while True:
        ranked = searcher.search(ranked_query, limit=fetch, count=False)
        hits = list(hit_ids(searcher, ranked.hits))
        fields_only = {a for _, a, s in hits if not s}
        if fields_only:  # a bulletin is a place of its own only when none of its sections is
            with_sections = searcher.search(in_articles(bulletins_query(query, region, ("alltext",)), fields_only), limit=len(fields_only))
            dropped = set(searcher.fast_field_values("article_id", [address for _, address in with_sections.hits]))
            hits = [hit for hit in hits if hit[2] or hit[1] not in dropped]
        if len(hits) >= wanted or len(ranked.hits) < fetch:
            break
        fetch *= 4
    results.total, results.bulletins, results.regions = counts(searcher, query, region)
    hits = hits[offset:wanted]
    found = build_places(query, hits, {article_id for _, article_id, _ in hits})
    results.places = [found[(article_id, section_id)] for _, article_id, section_id in hits]
    return results


def build_places(query, hits, article_ids):
    """{(article id, section id): Place} for the hits (score, article id, section id). Section id
    0 stands for the bulletin itself, which is built too for each of `article_ids` that has no
    section among the hits."""
    from ..models import Article, Section

    sections = Section.objects.for_results([section_id for _, _, section_id in hits if section_id])
    articles = Article.objects.summaries(set(article_ids) | {article_id for _, article_id, _ in hits})
    fields = {article_id: " ".join(index.article_fields(article)) for article_id, article in articles.items()}
    built = {}
    for score, article_id, section_id in hits:
        if not section_id:
            continue
        section, article = sections[section_id], articles[article_id]
        section.article = article
        ready = [prepared(paragraph) for paragraph in section.paragraphs]
        own = searchable(section.title) + "".join(stream for _, stream in ready)
        index_, quote = marks.snippet(section.paragraphs, marks.marks_for(query, own), ready)
        fragment = section.fragment() if len(section.paragraphs) == 1 else section.fragment(index_)
        built[(article_id, section_id)] = Place(
            article=article,
            section=section,
            fragment=fragment,
            snippet=quote,
            score=round(score, 4),
            missing=marks.missing(query, own, fields[article_id]),
        )
    with_sections = {article_id for article_id, section_id in built}
    scores = {article_id: score for score, article_id, section_id in hits if not section_id}
    for article_id, article in articles.items():
        if article_id in with_sections and article_id not in scores:
            continue
        built[(article_id, 0)] = Place(
            article=article,
            section=None,
            fragment="",
            snippet=marks.snippet([article.summary], marks.marks_for(query, searchable(article.summary)))[1],
            score=round(scores.get(article_id, 0.0), 4),
            missing=marks.missing(query, fields[article_id]),
        )
    return built

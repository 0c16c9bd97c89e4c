"""HTTP answers: the bulletin list, one page per bulletin, search, and the error pages."""

import functools
import logging
import sys
import time

from django.conf import settings
from django.core.paginator import Paginator
from django.db import DatabaseError, connection
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.http import urlencode
from django.views.decorators.cache import never_cache

from . import citation, pages, script, search, startup
from .caching import conditional
from .forms import PAGE_SIZE, ApiArticlesForm, ApiSearchForm, SearchPageForm
from .models import Article, ContentState, Section

logger = logging.getLogger(__name__)


def bad_request(form):
    """400, naming each bad parameter of the API's `form`."""
    return api_error(400, form.error_message(), fields={name: list(messages) for name, messages in form.errors.items()})


api_error = pages.json_error


def bulletin_list(request, articles, template, sortable=True, **context):
    """A page of `articles` rendered by `template`, a page at a time so an archive of thousands
    stays light; newest first on ?order=newest where the list is `sortable`."""
    newest = sortable and request.GET.get("order") == "newest"
    page = Paginator(articles.newest_first() if newest else articles, settings.BULLETINS_PER_PAGE).get_page(request.GET.get("page"))
    facets = {"regions": Article.objects.regions(), "years": Article.objects.years(), "undated": Article.objects.undated().count()}
    context.update(articles=page.object_list, page=page, newest=newest, sortable=sortable, facets=facets)
    return render(request, template, context)


@conditional
def index(request):
    """The bulletins in reading order, or newest first."""
    return bulletin_list(request, Article.objects.all(), "index.html")


@conditional
def regions(request):
    """Every region the archive holds, and every year its texts date, with their bulletins."""
    years, undated = Article.objects.years(), Article.objects.undated().count()
    return render(request, "regions.html", {"regions": Article.objects.regions(), "years": years, "undated": undated})


@conditional
def year(request, year):
    """The bulletins whose text dates them in `year`, latest first."""
    articles = Article.objects.dated_in(year).order_by("-date", "order", "slug")
    if not articles.exists():
        raise Http404("no bulletin dated in that year")
    return bulletin_list(request, articles, "year.html", sortable=False, year=year, undated=Article.objects.undated().count())


@conditional
def region(request, region):
    """One region's bulletins, in reading order or newest first."""
    articles = Article.objects.in_region(region)
    if not articles.exists():
        raise Http404("no such region")
    return bulletin_list(request, articles, "region.html", region=region)


@conditional
def article(request, slug):
    """A page that StoredPageMiddleware did not answer from its stored bytes: one opened from a
    search result (?hl=, the query's words marked), or one not stored (yet), rendered.

    Marks are made on the simplified page; TraditionalScriptMiddleware converts the result. A
    traditional one is rendered afresh, so that its own words come from the edition's catalogue.
    """
    page = None if script.in_traditional(request) else pages.stored_page(slug)
    if page is not None:
        html = bytes(page.html).decode()
    else:
        article = get_object_or_404(Article, slug=slug)
        html = pages.render_article(article, article.previous(), article.next(), request)
    hl = request.GET.get("hl", "")
    return HttpResponse(pages.highlighted(html, hl, request.path) if search.is_searchable(hl) else html)


def answers_while_rebuilding(view):
    """A search view that answers 503 (unavailable()) while the index is rebuilt."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except search.index.Unavailable as error:
            return unavailable(request, error)

    return wrapper


@answers_while_rebuilding
@conditional
def search_page(request):
    raw, region, page = SearchPageForm(request.GET).parameters()
    context = {"q": raw, "region": region, "page": page, "page_size": PAGE_SIZE}
    if raw.strip():
        found = within_budget(search.search, raw, region=region, limit=PAGE_SIZE, offset=(page - 1) * PAGE_SIZE)
        if found is None:
            return render(request, "search.html", {**context, "too_slow": True}, status=503)
        context.update(
            found=found, pages=-(-found.bulletins // PAGE_SIZE), link=functools.partial(result_url, highlight=hl_parameter(found.query))
        )
        if page > max(context["pages"], 1):  # a page past the last: 404, with the way to the first
            return render(request, "search.html", {**context, "out_of_range": True}, status=404)
    return render(request, "search.html", context)


RELATED = 5
NO_SUCH_BULLETIN = "no bulletin has this slug"
TOO_SLOW = "这次搜索用时过长，没有完成：请换一个更具体的说法再试。"


REBUILDING = "搜索索引正在重建，请稍后再试。"


def unavailable(request, error):
    """503 for a search while the index is rebuilt: the repair starts in this process (a load
    that finds the published version missing or damaged builds it afresh from the database)."""
    logger.error("%s: rebuilding it", error)
    startup.repair_in_background()
    if pages.under_api(request.path):
        response = api_error(503, REBUILDING)
    else:
        response = render(request, "search.html", {"q": request.GET.get("q", ""), "rebuilding": True}, status=503)
    response["Retry-After"] = "5"
    return response


def within_budget(search_function, *args, **kwargs):
    """The search's answer, or None when making it took more than BULLETINS_SEARCH_BUDGET_MS of
    work: such an answer is not served, and the reader is asked for a narrower query. Loading
    the query's dictionaries, once per process, is not the search's work. Raises
    search.index.Unavailable while the index is being rebuilt."""
    search.load_dictionaries()
    start = time.thread_time()
    found = search_function(*args, **kwargs)
    if (time.thread_time() - start) * 1000 > settings.BULLETINS_SEARCH_BUDGET_MS:
        logger.warning("search over its budget of %d ms: %r", settings.BULLETINS_SEARCH_BUDGET_MS, args[0][:100])
        return None
    return found


@answers_while_rebuilding
@conditional
def api_search(request):
    form = ApiSearchForm(request.GET)
    if not form.is_valid():
        return bad_request(form)
    raw, region, limit, offset = (form.cleaned_data[name] for name in ("q", "region", "limit", "offset"))
    found = within_budget(search.places, raw, region=region, limit=limit, offset=offset)
    if found is None:
        return api_error(503, TOO_SLOW)
    highlight = hl_parameter(found.query)
    payload = {
        "query": found.query.text,
        "region": region,
        "total": found.total,
        "total_bulletins": found.bulletins,
        "limit": limit,
        "offset": offset,
        "regions": found.regions,
        "absent": found.query.absent,
        "suggestion": found.suggestion,
        "ignored": found.query.ignored,
        "results": [
            {
                "url": absolute(request, result_url(place, highlight)),
                "article": {"slug": place.article.slug, "title": place.article.title},
                "section": {"id": place.section.anchor, "title": place.section.title} if place.section else None,
                "paragraph": {"id": place.paragraph_id, "number": place.section.number(place.paragraph)} if place.section else None,
                "place": place.name or None,
                "snippet": str(place.snippet),
                "score": place.score,
                "missing": place.missing,
            }
            for place in found.places
        ],
    }
    return JsonResponse(payload, json_dumps_params={"ensure_ascii": False})


def result_url(place, highlight):
    """Where a result leads: its bulletin's page with the query marked (`highlight`, the
    query string hl_parameter() makes once for a page of results), at its place."""
    url = f"{place.article.get_absolute_url()}?{highlight}"
    return f"{url}#{place.fragment}" if place.fragment else url


def hl_parameter(query):
    return urlencode({"hl": query.text})


def absolute(request, path):
    """A URL in full: under BULLETINS_SITE_URL when it is set, else as the request reached us."""
    return settings.BULLETINS_SITE_URL + path if settings.BULLETINS_SITE_URL else request.build_absolute_uri(path)


def article_summary(request, article):
    return {
        "slug": article.slug,
        "title": article.title,
        "region": article.region,
        "source": article.source,
        "byline": article.byline,
        "date": article.date.isoformat() if article.date else None,
        "added": article.added.isoformat() if article.added else None,
        "order": article.order,
        "summary": article.summary,
        "url": absolute(request, article.get_absolute_url()),
        "api_url": absolute(request, reverse("api-article", kwargs={"slug": article.slug})),
        "reference": citation.reference(article, absolute(request, article.get_absolute_url())),
    }


@conditional
def api_articles(request):
    """Every bulletin as data, in reading order, a page at a time."""
    form = ApiArticlesForm(request.GET)
    if not form.is_valid():
        return bad_request(form)
    limit, offset = form.cleaned_data["limit"], form.cleaned_data["offset"]
    articles = Article.objects.all()
    total = articles.count()
    following = None
    if offset + limit < total:
        following = absolute(request, f"{reverse('api-articles')}?{urlencode({'limit': limit, 'offset': offset + limit})}")
    return JsonResponse(
        {
            "total": total,
            "next": following,
            "articles": [article_summary(request, a) for a in articles[offset : offset + limit]],
        },
        json_dumps_params={"ensure_ascii": False},
    )


@conditional
def api_article(request, slug):
    """One bulletin as data: its metadata and each section with its URL and text."""
    article = Article.objects.filter(slug=slug).first()
    if article is None:
        return api_error(404, NO_SUCH_BULLETIN)
    page = absolute(request, article.get_absolute_url())
    sections = [
        {
            "id": section.anchor,
            "title": section.title,
            "level": section.level,
            "url": f"{page}#{section.fragment()}",
            "short_url": short,
            "reference": citation.reference(article, short, section.title),
            "paragraphs": [{"id": section.block_id(i), "text": text} for i, text in enumerate(section.paragraphs)],
            "html": section.html,
        }
        for section in article.sections.all()
        for short in [absolute(request, reverse("section", kwargs={"slug": article.slug, "number": section.position}))]
    ]
    return JsonResponse({**article_summary(request, article), "sections": sections}, json_dumps_params={"ensure_ascii": False})


def section(request, slug, number):
    """A bulletin's n-th section by a short ASCII address (urls.py), which a chat app keeps whole
    where it cuts a percent-escaped one, sent on to its anchor. Not permanent: an edit may
    number the sections anew."""
    found = Section.objects.filter(article__slug=slug, position=number).select_related("article").first()
    if found is None:
        raise Http404("no such section")
    prefix = script.PREFIX if script.in_traditional(request) else ""
    return redirect(f"{prefix}{found.article.get_absolute_url()}#{found.fragment()}")


def paragraph(request, slug, number):
    """A bulletin's n-th paragraph (第 n 段, as search results count them) by a short ASCII
    address, sent on to it, as section() does for a section."""
    found = Section.objects.filter(article__slug=slug, first__lte=number).order_by("-first").select_related("article").first()
    if found is None or number >= found.first + len(found.paragraphs):
        raise Http404("no such paragraph")
    prefix = script.PREFIX if script.in_traditional(request) else ""
    return redirect(f"{prefix}{found.article.get_absolute_url()}#{found.fragment(number - found.first)}")


@answers_while_rebuilding
@conditional
def api_related(request, slug):
    """Other bulletins that share this one's key words: its title's and its sections' titles'
    words, searched as a reader's query, so the search's own weighting (rarer words count
    more) decides; best first. ?script=hant gives the titles and addresses in traditional."""
    article = Article.objects.filter(slug=slug).first()
    if article is None:
        return api_error(404, NO_SUCH_BULLETIN)
    words = " ".join([article.title, *article.sections.titled().values_list("title", flat=True)])
    found = within_budget(search.search, words[: search.MAX_QUERY_LENGTH], limit=RELATED + 1)
    if found is None:  # never an empty list that a cache would keep as the answer
        response = api_error(503, TOO_SLOW)
        response["Retry-After"] = "5"
        return response
    traditional = request.GET.get("script") == "hant"
    related = [
        {
            "slug": entry.article.slug,
            "title": script.converter()(entry.article.title) if traditional else entry.article.title,
            "region": script.converter()(entry.article.region) if traditional else entry.article.region,
            "url": absolute(request, (script.PREFIX if traditional else "") + entry.article.get_absolute_url()),
        }
        for entry in found.entries
        if entry.article.slug != slug
    ][:RELATED]
    return JsonResponse({"related": related}, json_dumps_params={"ensure_ascii": False})


@conditional
def robots_txt(request):
    lines = [
        "User-agent: *",
        f"Disallow: {reverse('search')}",
        f"Disallow: {script.PREFIX}{reverse('search')}",
        f"Disallow: {pages.api_prefix()}",
        f"Sitemap: {absolute(request, reverse('sitemap'))}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")


def public_outcome(last_load):
    """How the last load ended, without what only the operator may read: a failure's message
    can quote a file's name or an unpublished value (the log and `loadbulletins --check` say it)."""
    when, failed, _ = last_load.partition(" failed")
    return f"{when} failed (see the log)" if failed else last_load


@never_cache
def healthz(request):
    """For load balancers and operators: whether this process can serve, which content, how the
    last load ended and how many files it refused (never their names: the log and
    `loadbulletins --check` give those); 503 when the site cannot serve (loading, a search
    index missing or damaged, which it then rebuilds, a database that cannot be read)."""
    try:
        state = ContentState.current()
    except DatabaseError as error:
        connection.close()
        startup.repair_in_background()
        logger.error("the database cannot be read: %s", error)
        return JsonResponse({"status": "error", "error": "the database cannot be read: rebuilding it"}, status=503)
    if state is None:
        return JsonResponse({"status": "loading"}, status=503)
    payload = {
        "status": "ok",
        "version": state.version,
        "articles": state.article_count,
        "updated_at": state.updated_at.isoformat(),
        "last_load": public_outcome(state.last_load),
        "refused": len(state.refused),
    }
    try:
        search.index.searcher(state.index_version)  # checked intact at most once a second, as searches check it
    except search.index.Unavailable:
        startup.repair_in_background()
        return JsonResponse({**payload, "status": "error", "error": "the search index is missing or damaged: rebuilding it"}, status=503)
    return JsonResponse(payload, json_dumps_params={"ensure_ascii": False})


def page_not_found(request, exception=None):
    if pages.under_api(request.path):
        return api_error(404, "no such address in the API")
    return render(request, "404.html", status=404)


def server_error(request):
    """A failure; one of the database (deleted or damaged under the running site) answers 503
    and starts its repair in this process, so the site converges without a manual step."""
    if isinstance(sys.exc_info()[1], DatabaseError):
        connection.close()  # the next request opens the file as it is now
        startup.repair_in_background()
        response = HttpResponse("内容正在重建，请稍后再试。\n", status=503, content_type="text/plain; charset=utf-8")
        response["Retry-After"] = "5"
        return response
    return HttpResponse(render_to_string("500.html", request=request), status=500)

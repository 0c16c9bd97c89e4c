"""HTML answers: the bulletin lists, one page per bulletin, search, short addresses, and the
error pages. The API is api.py's; a search's budget, budget.py's."""

import functools
import logging
import sys

from django.conf import settings
from django.core.paginator import Paginator
from django.db import DatabaseError, connection
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.views.decorators.cache import never_cache

from . import pages, search, startup, traditional
from .budget import answers_while_rebuilding, within_budget
from .caching import conditional
from .forms import PAGE_SIZE, SearchPageForm
from .models import Article, ContentState, Section
from .routes import absolute, hl_parameter, result_url

logger = logging.getLogger(__name__)


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
    page = None if traditional.in_traditional(request) else pages.stored_page(slug)
    if page is not None:
        html = bytes(page.html).decode()
    else:
        article = get_object_or_404(Article, slug=slug)
        html = pages.render_article(article, article.previous(), article.next(), request)
    hl = request.GET.get("hl", "")
    return HttpResponse(pages.highlighted(html, hl, request.path) if search.is_searchable(hl) else html)


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


def section(request, slug, number):
    """A bulletin's n-th section by a short ASCII address (urls.py), which a chat app keeps whole
    where it cuts a percent-escaped one, sent on to its anchor. Not permanent: an edit may
    number the sections anew."""
    found = Section.objects.filter(article__slug=slug, position=number).select_related("article").first()
    if found is None:
        raise Http404("no such section")
    return sent_on(request, found)


def paragraph(request, slug, number):
    """A bulletin's n-th paragraph (第 n 段, as search results count them) by a short ASCII
    address, sent on to it, as section() does for a section."""
    found = Section.objects.filter(article__slug=slug, first__lte=number).order_by("-first").select_related("article").first()
    if found is None or number >= found.first + len(found.paragraphs):
        raise Http404("no such paragraph")
    return sent_on(request, found, number - found.first)


def sent_on(request, section, index=None):
    """A redirect to a section (or its paragraph at `index`), on the page of the script asked for."""
    url = f"{section.article.get_absolute_url()}#{section.fragment(index)}"
    return redirect(traditional.localized(url) if traditional.in_traditional(request) else url)


@conditional
def robots_txt(request):
    lines = [
        "User-agent: *",
        f"Disallow: {reverse('search')}",
        f"Disallow: {traditional.PREFIX}{reverse('search')}",
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
        return pages.json_error(404, "no such address in the API")
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

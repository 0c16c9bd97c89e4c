"""Article pages, rendered once when content loads and stored, so a reader is answered with bytes.

A page depends on its article, the articles before and after it (the pager), the templates
and code (the release) and the site's URL. Each stored page keeps a digest of those, and a
load renders again exactly the pages whose digest changed: after a restart with nothing
changed, none; after one file changed, its page, and its neighbours' if its title or slug did.
"""

import gzip
import hashlib
import html as html_module
import logging
import posixpath
import re
from functools import cache
from pathlib import Path

import brotli
from django.conf import settings
from django.contrib.staticfiles.storage import staticfiles_storage
from django.http import HttpResponse, JsonResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation
from django.utils.cache import get_conditional_response
from django.utils.http import http_date
from markupsafe import escape

from . import progress, search, traditional
from .models import Article, Page
from .search import marks
from .search.text import searchable, single_words

logger = logging.getLogger(__name__)
RELEASE_SUFFIXES = {".py", ".html", ".txt", ".mo"}
ACCEPTED_CODING = re.compile(r"\s*([\w*-]+)\s*(?:;\s*q\s*=\s*([\d.]+))?")
CONDITIONAL_HEADERS = ("HTTP_IF_MATCH", "HTTP_IF_NONE_MATCH", "HTTP_IF_MODIFIED_SINCE", "HTTP_IF_UNMODIFIED_SINCE")
# A section of a rendered article (article.html): its opening tag, its heading and text, its end.
SECTION = re.compile(r'(<section id="[^"]*" class="section level-\d+(?: run-in)?"[^>]*>)(.*?)(</section>)', re.DOTALL)
TAG = re.compile(r"<[^>]*>")
# Where a page opened from search shows the query (article.html), and the search box it fills.
SEARCH_BAR = "<!-- search bar -->"
# brotli's quality for stored pages: 5 makes them 10% larger than 11 does, in a tenth of the
# time (0.5 against 7-11 ms a page here), which a load of 10,000 pages and their twins pays.
BROTLI_QUALITY = 5
EMPTY_SEARCH_BOX = 'name="q" value=""'


@cache
def release():
    """A digest of the code, templates, catalogues and static files' names, so a deploy renders pages anew."""
    digest = hashlib.sha256()
    for root in (settings.BASE_DIR / "bulletins", settings.BASE_DIR / "templates", *settings.LOCALE_PATHS):
        for path in sorted(Path(root).rglob("*")):
            if path.suffix in RELEASE_SUFFIXES and path.is_file():
                digest.update(path.read_bytes())
    manifest = Path(settings.STATIC_ROOT) / getattr(staticfiles_storage, "manifest_name", "")
    if manifest.is_file():
        digest.update(manifest.read_bytes())
    return digest.hexdigest()[:16]


def rendering():
    """What every page is rendered with: while it holds and no article changes, no page does."""
    return f"{release()} {settings.BULLETINS_SITE_URL}"


def page_key(source_hash, previous, following):
    """What a page is rendered from; `previous` and `following` are (slug, title) or None."""
    parts = [rendering(), source_hash, repr(previous), repr(following)]
    return hashlib.sha256("\0".join(parts).encode()).hexdigest()


def render_article(article, previous, following, request=None):
    """The article's page as HTML, as it is stored."""
    sections = list(article.sections.all())
    context = {
        "article": article,
        "page_path": article.get_absolute_url(),
        "sections": sections,
        "toc": [section for section in sections if section.title],
        "previous": previous,
        "next": following,
    }
    return render_to_string("article.html", context, request=request)


def highlighted(html, hl, path):
    """An article's page opened from search: the query's words marked in its sections, the
    query in the search box, and a bar to step through the marks, go back to the results or
    clear the marks.

    Applied to the stored page's bytes, so a page opened from a result costs a read and a
    pass over its sections. Each section is marked as marks.marks_for() decides for its text.
    """
    try:
        query, _ = search.parse_query(hl)
    except search.index.Unavailable:  # while the index is rebuilt, the page marks the words unweighed
        query = search.parse(hl)
    if not query:
        return html
    html = SECTION.sub(lambda m: m[1] + mark_section(m[2], query) + m[3], html)
    bar = render_to_string("search_bar.html", {"q": query.text, "count": html.count("<mark>"), "path": path})
    return html.replace(SEARCH_BAR, bar, 1).replace(EMPTY_SEARCH_BOX, f'name="q" value="{escape(query.text)}"', 1)


def mark_section(html, query):
    text = html_module.unescape(TAG.sub(" ", html))
    whole = query.whole_forms
    singles = {text[at] for at in single_words(text)} if whole else frozenset()
    return str(marks.highlight_html(html, marks.marks_for(query, searchable(text), singles), whole))


def neighbours():
    """Each article's id and source hash with its neighbours' (slug, title), in reading order.

    Streams the articles with a window of three, so the archive is never all in memory.
    """
    rows = Article.objects.order_by("order", "slug").values_list("id", "slug", "title", "source_hash", "page__key")
    previous = current = None
    for row in rows.iterator(chunk_size=2000):
        if current is not None:
            yield current, previous, (row[1], row[2])
            previous = (current[1], current[2])
        current = row
    if current is not None:
        yield current, previous, None


def refresh_pages(batch=500):
    """Render and store every page whose key changed; return how many were rendered."""
    stale, rendered, total = {}, 0, Article.objects.count()
    for done, ((article_id, _, _, source_hash, stored_key), previous, following) in enumerate(neighbours(), start=1):
        key = page_key(source_hash, previous, following)
        if key != stored_key:
            stale[article_id] = (key, previous, following)
        if len(stale) == batch:
            rendered += store_pages(stale)
            stale = {}
        progress.step("pages checked", done, total)
    return rendered + store_pages(stale)


def page_etag(html):
    """A weak validator (the gzipped bytes share it), and the check that stored bytes are whole."""
    return f'W/"{hashlib.sha256(html).hexdigest()[:32]}"'


def intact(page):
    """Whether a stored page, as Page.objects.for_slug reads it, is the bytes that were stored."""
    return page.etag == page_etag(page.html)


def store_page_of(article):
    """Render and store one article's page again: for a stored page found damaged."""

    def pair(other):
        return (other.slug, other.title) if other else None

    previous, following = pair(article.previous()), pair(article.next())
    store_pages({article.pk: (page_key(article.source_hash, previous, following), previous, following)})


def neighbour(slug_and_title):
    """An unsaved Article, enough for the pager's link, from a (slug, title) pair or None."""
    return Article(slug=slug_and_title[0], title=slug_and_title[1]) if slug_and_title else None


def store_pages(stale):
    """Render the pages of `stale` ({article id: (key, previous, following)}) and store them.

    A page's Last-Modified is its bulletin's, as the content dates it (Article.last_modified).
    """
    rows = []
    for article in Article.objects.filter(pk__in=stale).prefetch_related("sections"):
        key, previous, following = stale[article.pk]
        html = render_article(article, neighbour(previous), neighbour(following)).encode()
        with translation.override(traditional.LANGUAGE):  # the site's own words from the edition's catalogue
            hant = traditional.to_traditional(render_article(article, neighbour(previous), neighbour(following))).encode()
        rows.append(
            Page(
                article=article,
                key=key,
                etag=page_etag(html),
                last_modified=article.last_modified(),
                html=html,
                html_gzip=gzip.compress(html, mtime=0),
                html_br=brotli.compress(html, quality=BROTLI_QUALITY),
                hant_etag=page_etag(hant),
                hant_html=hant,
                hant_gzip=gzip.compress(hant, mtime=0),
                hant_br=brotli.compress(hant, quality=BROTLI_QUALITY),
            )
        )
    Page.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["article"],
        update_fields=["key", "etag", "last_modified", "html", "html_gzip", "html_br", "hant_etag", "hant_html", "hant_gzip", "hant_br"],
    )
    return len(rows)


def stored_page(slug, hant=False):
    """Page.objects.for_slug(), but a page found damaged is rendered and stored again first."""
    page = Page.objects.for_slug(slug, hant)
    if page is not None and not intact(page):
        logger.error("the stored page of %s is damaged: rendering and storing it again", slug)
        article = Article.objects.filter(slug=slug).first()
        if article is None:
            return None
        store_page_of(article)
        page = Page.objects.for_slug(slug, hant)
    return page


def stored_answer(request, slug):
    """The stored page of `slug` as the request asks for it (simplified or traditional), or None
    when none is stored."""
    page = stored_page(slug, traditional.in_traditional(request))
    return stored_page_response(request, *page) if page is not None else None


def stored_page_response(request, etag, last_modified, html, html_gzip, html_br):
    """A stored page's bytes, compressed as the browser accepts (brotli first, then gzip), with
    its own validators: one weak ETag for every encoding, as they are the same page."""
    headers = {
        "ETag": etag,
        "Vary": "Accept-Encoding",
        "Cache-Control": settings.PAGE_CACHE_CONTROL,
    }
    if traditional.in_traditional(request):
        headers["Content-Language"] = "zh-Hant"
    if last_modified:  # 0: the content dates it nowhere
        headers["Last-Modified"] = http_date(last_modified)
    if any(header in request.META for header in CONDITIONAL_HEADERS):
        response = get_conditional_response(request, etag=etag, last_modified=last_modified or None)
        if response is not None:
            for name, value in headers.items():
                response.headers[name] = value
            return response
    if html_br and accepts(request, "br"):
        html, headers["Content-Encoding"] = html_br, "br"
    elif accepts(request, "gzip"):
        html, headers["Content-Encoding"] = html_gzip, "gzip"
    headers["Content-Length"] = len(html)
    return HttpResponse(html, headers=headers)


def accepts(request, coding):
    """Whether the request's Accept-Encoding takes `coding` (gzip, br): named with a weight
    above 0 (gzip;q=0 refuses it, as RFC 9110 says)."""
    names = ("gzip", "x-gzip") if coding == "gzip" else (coding,)
    for item in request.META.get("HTTP_ACCEPT_ENCODING", "").split(","):
        match = ACCEPTED_CODING.match(item)
        if match and match.group(1) in names:  # as Django reads it: lower case
            try:
                return float(match.group(2) or 1) > 0
            except ValueError:
                return False
    return False


def api_prefix():
    """The part that every API URL begins with (/api/): the part that theirs share."""
    return posixpath.commonpath([reverse("api-search"), reverse("api-articles")]) + "/"


def under_api(path):
    """Whether a path is one of the API's, whose every answer, errors included, is JSON."""
    return path.startswith(api_prefix())


def json_error(status, message, **details):
    """The API's one shape of error: {"error": message, "status": status, ...details}."""
    return JsonResponse({"error": message, "status": status, **details}, status=status, json_dumps_params={"ensure_ascii": False})

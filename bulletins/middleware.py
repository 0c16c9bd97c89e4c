"""What every response of a public, read-only site needs: methods, security headers, caching."""

import hashlib
import re

from django.conf import settings
from django.http import Http404, HttpResponseNotAllowed
from django.middleware import gzip
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date

from . import script
from .models import ContentState, Page
from .pages import ARTICLE_PATH, intact, release, stored_page_response

SAFE_METHODS = ("GET", "HEAD")
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), browsing-topics=()"


class ReadOnlyMiddleware:
    """GET and HEAD only, for pages and static files alike: anything else is a 405."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.method not in SAFE_METHODS:
            return HttpResponseNotAllowed(SAFE_METHODS)
        return self.get_response(request)


class SecurityHeadersMiddleware:
    """The headers Django's own middleware does not set: a strict CSP and Permissions-Policy."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response


class ScriptPrefixMiddleware:
    """/zh-hant/<page> is <page> in traditional script: the stored pages, the URLs and the views
    see the page's own path (path_info); request.path keeps the prefix, and with it the
    validators and bulletins.script.in_traditional(). A path with no traditional twin is 404."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        path = request.path_info
        if path.startswith(script.PREFIX + "/") or path == script.PREFIX:
            page = path[len(script.PREFIX) :] or "/"
            if script.traditional_path(page) is None:
                raise Http404("no traditional page here")
            request.path_info = page
        return self.get_response(request)


class TraditionalScriptMiddleware:
    """Converts a traditional page's HTML (bulletins.script), before it is compressed. A stored
    traditional page arrives converted already (Content-Language: zh-Hant)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            script.in_traditional(request)
            and not response.streaming
            and response.get("Content-Type", "").startswith("text/html")
            and "Content-Language" not in response
            and "Content-Encoding" not in response
        ):
            response.content = script.to_traditional(response.content.decode()).encode()
            response["Content-Language"] = "zh-Hant"
            if response.has_header("Content-Length"):
                response["Content-Length"] = str(len(response.content))
        return response


class StoredPageMiddleware:
    """Answers article pages from their stored bytes, as whitenoise answers static files.

    Before URL resolution and the middleware below, which such bytes do not need: one query
    and the answer. A request with ?hl=, or for a page not stored, goes on to the view.
    """

    def __init__(self, get_response):
        self.get_response = get_response
        self.article_path = re.compile("/" + ARTICLE_PATH.lstrip("^"))

    def __call__(self, request):
        match = self.article_path.match(request.path_info)
        if match and not (request.META.get("QUERY_STRING") and "hl" in request.GET):
            request.get_host()  # a Host outside ALLOWED_HOSTS is refused here as anywhere else
            page = Page.objects.for_slug(match["slug"], traditional=script.in_traditional(request))
            if page is not None and intact(page):  # a damaged one goes to the view, which repairs it
                return stored_page_response(request, *page)
        return self.get_response(request)


class GZipMiddleware(gzip.GZipMiddleware):
    """Django's, without the random bytes it adds against BREACH: no answer of this site holds
    a secret (no cookie, no token), and replicas must answer the same content with the same
    bytes."""

    max_random_bytes = 0


class ContentCachingMiddleware:
    """ETag and Last-Modified from the published content (its version, and its last change as
    the content dates it), and 304 for a page that exists.

    A page is a function of the content version, the release, the URL and, where absolute URLs
    follow the request (no BULLETINS_SITE_URL), the scheme and host, so the validators are
    computed from those alone. The answer is made before it is compared, so that a URL that
    would answer 404 or 400 does so, never 304 (RFC 9110 §13.2.1). Static files are left to
    whitenoise, and views marked `validates_itself` (stored article pages) to themselves.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        validators = getattr(request, "content_validators", None)
        if validators and response.status_code == 200:
            etag, last_modified = validators
            response.headers["ETag"] = etag
            if last_modified:  # 0: the content dates it nowhere
                response.headers["Last-Modified"] = http_date(last_modified)
            response.headers["Cache-Control"] = settings.PAGE_CACHE_CONTROL
            response = get_conditional_response(request, etag=etag, last_modified=last_modified or None, response=response)
        elif response.status_code == 404:
            patch_cache_control(response, public=True, max_age=60)
        return response

    def process_view(self, request, view, args, kwargs):
        if getattr(view, "validates_itself", False) or request.path == "/healthz":
            return None
        published = ContentState.published()
        if published is None:
            return None
        version, updated = published
        where = "" if settings.BULLETINS_SITE_URL else f"{request.scheme}://{request.get_host()}"
        tag = hashlib.sha256(f"{version}|{release()}|{where}|{request.get_full_path()}".encode()).hexdigest()[:32]
        request.content_validators = (f'"{tag}"', updated)
        return None

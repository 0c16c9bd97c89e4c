"""What every response of a public, read-only site needs: methods, security headers, script,
compression, and stored pages answered before any view."""

from django.http import Http404, HttpResponseNotAllowed
from django.middleware import gzip
from django.utils import translation
from django.utils.cache import patch_cache_control, patch_vary_headers

from . import traditional
from .pages import accepts, json_error, stored_answer, under_api
from .routes import pattern_named

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


class Middleware:
    """Django's middleware protocol: the next handler at creation, a request at each call."""

    def __init__(self, get_response):
        self.get_response = get_response


class ReadOnlyMiddleware(Middleware):
    """GET and HEAD only, for pages and static files alike: anything else is a 405."""

    def __call__(self, request):
        if request.method not in SAFE_METHODS:
            if under_api(request.path):
                response = json_error(405, f"{request.method} is not allowed: this API reads only")
                response["Allow"] = ", ".join(SAFE_METHODS)
                return response
            return HttpResponseNotAllowed(SAFE_METHODS)
        return self.get_response(request)


class SecurityHeadersMiddleware(Middleware):
    """The headers Django's own middleware does not set: a strict CSP and Permissions-Policy."""

    def __call__(self, request):
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        return response


class ScriptPrefixMiddleware(Middleware):
    """/zh-hant/<page> is <page> in traditional script: the stored pages, the URLs and the views
    see the page's own path (path_info); request.path keeps the prefix, and with it the
    validators and bulletins.traditional.in_traditional(). A path with no traditional twin is 404."""

    def __call__(self, request):
        path = request.path_info
        if path.startswith(traditional.PREFIX + "/") or path == traditional.PREFIX:
            page = path[len(traditional.PREFIX) :] or "/"
            if traditional.traditional_path(page) is None:
                raise Http404("no traditional page here")
            request.path_info = page
            with translation.override(traditional.LANGUAGE):  # the site's own words from its catalogue
                return self.get_response(request)
        return self.get_response(request)


class TraditionalScriptMiddleware(Middleware):
    """Converts a traditional page's HTML (bulletins.traditional), before it is compressed. A stored
    traditional page arrives converted already (Content-Language: zh-Hant)."""

    def __call__(self, request):
        response = self.get_response(request)
        if (
            traditional.in_traditional(request)
            and not response.streaming
            and response.get("Content-Type", "").startswith("text/html")
            and "Content-Language" not in response
            and "Content-Encoding" not in response
        ):
            response.content = traditional.to_traditional(response.content.decode()).encode()
            response["Content-Language"] = "zh-Hant"
            if response.has_header("Content-Length"):
                response["Content-Length"] = str(len(response.content))
        return response


class StoredPageMiddleware(Middleware):
    """The one place that answers article pages from their stored bytes, as whitenoise answers
    static files.

    Before URL resolution and the middleware below, which such bytes do not need: one query
    and the answer. A request with ?hl=, or for a page not stored, goes on to the view.
    """

    def __init__(self, get_response):
        super().__init__(get_response)
        self.article = pattern_named("article")

    def __call__(self, request):
        match = self.article.resolve(request.path_info.removeprefix("/"))
        if match and not (request.META.get("QUERY_STRING") and "hl" in request.GET):
            request.get_host()  # a Host outside ALLOWED_HOSTS is refused here as anywhere else
            response = stored_answer(request, match.kwargs["slug"])
            if response is not None:
                return response
        return self.get_response(request)


class GZipMiddleware(gzip.GZipMiddleware):
    """Django's, without the random bytes it adds against BREACH: no answer of this site holds
    a secret (no cookie, no token), and replicas must answer the same content with the same
    bytes."""

    max_random_bytes = 0

    def process_response(self, request, response):
        if not accepts(request, "gzip"):  # Django's looks for "gzip" alone, and gzips for gzip;q=0
            patch_vary_headers(response, ("Accept-Encoding",))
            return response
        return super().process_response(request, response)


class NotFoundCachingMiddleware(Middleware):
    """A 404, from any view or none, may be kept a minute: long enough to spare the site a
    crawler's repeats, short enough for a bulletin that is being published."""

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code == 404:
            patch_cache_control(response, public=True, max_age=60)
        return response

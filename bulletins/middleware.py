"""What every response of a public, read-only site needs: methods, security headers, caching."""

import hashlib
from functools import cache
from pathlib import Path

from django.conf import settings
from django.http import HttpResponseNotAllowed
from django.utils.cache import get_conditional_response, patch_cache_control
from django.utils.http import http_date

from .models import ContentState

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


@cache
def release():
    """A digest of the code and templates, so a deploy changes the validators as content does."""
    digest = hashlib.sha256()
    for root in (settings.BASE_DIR / "bulletins", settings.BASE_DIR / "templates"):
        for path in sorted(Path(root).rglob("*")):
            if path.suffix in {".py", ".html", ".txt"} and path.is_file():
                digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


class ContentCachingMiddleware:
    """ETag and Last-Modified from the loaded content, answered with 304 before any rendering.

    A page is a function of the content version, the release and the URL, so the validators
    are computed from those alone; static files are left to whitenoise.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if request.path.startswith("/" + settings.STATIC_URL.lstrip("/")) or request.path == "/healthz":
            return self.get_response(request)
        state = ContentState.current()
        if state is None:
            return self.get_response(request)
        tag = hashlib.sha256(f"{state.version}|{release()}|{request.get_full_path()}".encode()).hexdigest()[:32]
        etag, last_modified = f'"{tag}"', int(state.updated_at.timestamp())
        response = get_conditional_response(request, etag=etag, last_modified=last_modified)
        if response is None:
            response = self.get_response(request)
        if response.status_code in (200, 304):
            response.headers["ETag"] = etag
            response.headers["Last-Modified"] = http_date(last_modified)
            patch_cache_control(response, public=True, max_age=settings.PAGE_MAX_AGE)
        elif response.status_code == 404:
            patch_cache_control(response, public=True, max_age=60)
        return response

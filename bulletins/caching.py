"""HTTP validation of the pages made from the published content, declared per view.

A page is a function of the content version, the release, the URL and, where absolute URLs
follow the request (no BULLETINS_SITE_URL), the scheme and host, so its ETag is computed from
those alone and its Last-Modified is the content's last change as the content dates it. As
Django's condition() does, but the answer is made before it is compared, so that a URL that
would answer 404 or 400 does so, never 304 (RFC 9110 §13.2.1). Stored article pages carry
their own validators (pages.stored_page_response).
"""

import functools
import hashlib

from django.conf import settings
from django.utils.cache import get_conditional_response
from django.utils.http import http_date

from .models import ContentState, one_version
from .pages import release


def content_validators(request):
    """(ETag, Last-Modified in seconds or 0) of the page that `request` asks for, or None when
    nothing is published."""
    published = ContentState.published()
    if published is None:
        return None
    version, updated = published
    where = "" if settings.BULLETINS_SITE_URL else f"{request.scheme}://{request.get_host()}"
    tag = hashlib.sha256(f"{version}|{release()}|{where}|{request.get_full_path()}".encode()).hexdigest()[:32]
    return f'"{tag}"', updated


def conditional(view):
    """The view's successful answers carry the content's validators and the pages' Cache-Control,
    and a request that holds them is answered 304. Validators and body are read from one
    snapshot of the database, so that a load published meanwhile cannot give a body the
    validators of the version before it."""

    @functools.wraps(view)
    @one_version
    def wrapper(request, *args, **kwargs):
        validators = content_validators(request)
        response = view(request, *args, **kwargs)
        if hasattr(response, "render"):
            response.render()  # a TemplateResponse (the sitemaps'): its body from this snapshot too
        if validators is None or response.status_code != 200:
            return response
        etag, last_modified = validators
        response.headers["ETag"] = etag
        if last_modified:  # 0: the content dates it nowhere
            response.headers["Last-Modified"] = http_date(last_modified)
        response.headers["Cache-Control"] = settings.PAGE_CACHE_CONTROL
        return get_conditional_response(request, etag=etag, last_modified=last_modified or None, response=response)

    return wrapper

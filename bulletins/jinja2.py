"""The Jinja2 environment of our templates: Django's url() and static(), and the site's URL."""

from django.conf import settings
from django.templatetags.static import static
from django.urls import reverse
from jinja2 import Environment


def environment(**options):
    env = Environment(**options)
    env.globals.update({"static": static, "url": reverse, "absolute": absolute, "site_url": site_url})
    return env


def site_url():
    return settings.BULLETINS_SITE_URL


def absolute(path):
    """A page's URL for canonical links: under BULLETINS_SITE_URL when it is set, else the path.

    Not from the request's Host: article pages are rendered once, before any request.
    """
    return site_url() + path

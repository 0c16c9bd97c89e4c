"""The Jinja2 environment of our templates: Django's url() and static(), and the site's URL."""

from functools import lru_cache

from django.conf import settings
from django.templatetags.static import static
from django.urls import get_script_prefix, reverse
from jinja2 import Environment
from markupsafe import Markup

from .citation import TEMPLATE, reference
from .content import entry
from .script import traditional_path
from .typeset import breaks, lead_in_breaks


def environment(**options):
    env = Environment(**options)
    env.globals.update({"static": static, "url": url, "absolute": absolute, "site_url": site_url})
    env.globals["day"] = day
    env.globals["traditional_path"] = traditional_path
    env.globals.update(reference=reference, citation_template=TEMPLATE)
    env.filters["entry"] = entry
    env.filters["breaks"] = breaks
    env.filters["lead_in_breaks"] = lead_in_breaks
    return env


def day(date):
    """<time> of a date as Chinese readers write it: 2023年2月24日."""
    return Markup(f'<time datetime="{date.isoformat()}">{date.year}年{date.month}月{date.day}日</time>')


def url(name, args=None):
    """Django's reverse(), remembered for the URLs without arguments that every page links to.

    A page names eight, and a load renders every page of the archive.
    """
    return reverse(name, args=args) if args else reverse_once(get_script_prefix(), name)


@lru_cache(maxsize=64)
def reverse_once(prefix, name):
    return reverse(name)


def site_url():
    return settings.BULLETINS_SITE_URL


def absolute(path):
    """A page's URL for canonical links: under BULLETINS_SITE_URL when it is set, else the path.

    Not from the request's Host: article pages are rendered once, before any request.
    """
    return site_url() + path

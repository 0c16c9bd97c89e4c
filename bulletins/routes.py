"""The site's URLs as other modules need them, read from urls.py's patterns at call time.

A bottom module: it imports Django alone, never urls.py (which imports the views, which import
most of the site), so that any module may ask for a URL without an import running upward.
It holds the per-prefix reverse() caches that pages, lists and loads lean on.
"""

import re
from functools import cache, lru_cache

from django.conf import settings
from django.urls import get_resolver, get_script_prefix, reverse
from django.utils.http import urlencode

SLUG_MARK = "0-slug-0"  # a slug no bulletin has (slugs never start with a digit and a dash)


def pattern_named(name):
    """urls.py's pattern called `name`, to resolve a path against it alone."""
    return next(pattern for pattern in get_resolver().url_patterns if pattern.name == name)


@cache
def paths_named(*names):
    """A regex that matches the paths (with their leading /) of the URL patterns named `names`:
    for what must know a page's kind before URL resolution (StoredPageMiddleware,
    bulletins.traditional), without spelling its URL a second time."""
    alternatives = []
    for pattern in get_resolver().url_patterns:
        if pattern.name in names:
            regex = pattern.pattern.regex.pattern.removeprefix("^").removesuffix("\\Z").removesuffix("$")
            alternatives.append(re.sub(r"\(\?P<\w+>", "(?:", regex))
    return re.compile("^/(?:" + "|".join(alternatives) + ")$")


def url(name, args=None):
    """Django's reverse(), remembered for the URLs without arguments that every page links to.

    A page names eight, and a load renders every page of the archive.
    """
    return reverse(name, args=args) if args else reverse_once(get_script_prefix(), name)


@lru_cache(maxsize=64)
def reverse_once(prefix, name):
    return reverse(name)


@cache
def article_url_around_slug(script_prefix):
    """urls.py's article URL, reversed once, split where the slug goes: a page links to several
    bulletins, a load renders every page, a search page links to thirty places, and reverse()
    costs more than the rest of a link. One for each script prefix (reverse() puts it first);
    the same as reverse() for every slug, which its pattern keeps URL-safe."""
    return reverse("article", kwargs={"slug": SLUG_MARK}).split(SLUG_MARK, 1)


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

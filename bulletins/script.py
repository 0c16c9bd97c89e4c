"""Traditional script: every HTML page of the site also under /zh-hant/, converted from the
simplified page with OpenCC (s2t), as zh.wikipedia lets its readers choose.

Text is converted, and the attributes a reader reads or hears (title, aria-label, content,
placeholder); ids and link targets never are, so a section's address is the same in both
scripts. Links to other pages lead to their traditional pages. Pure functions of the HTML.
"""

import re
from functools import cache

from django.conf import settings

PREFIX = "/zh-hant"
# The pages that have a traditional twin: HTML only (the API, feeds and sitemaps are data).
PAGES = re.compile(r"^/(?:|articles/[^/]+/|regions/(?:[^/]+/)?|years/\d+/|search/)$")
TAG = re.compile(r"(<[^>]*>)")
READ_ATTRIBUTE = re.compile(r'\b(title|aria-label|content|placeholder|alt)="([^"]*)"')
TARGET = re.compile(r'\b(href|action)="([^"]*)"')
PLACE = re.compile("\x1e(\\d+)\x1e")


@cache
def converter():
    """OpenCC's converter, loaded at the first traditional page (its dictionaries are a few MB)."""
    import opencc

    return opencc.OpenCC("s2t").convert


def traditional_path(path):
    """The traditional twin of a simplified page's path, or None for what has none."""
    return PREFIX + path if PAGES.match(path) else None


def localized(url):
    """A link to one of our pages, made a link to its traditional twin; any other left alone."""
    site = settings.BULLETINS_SITE_URL
    base = site if site and url.startswith(site + "/") else ""
    path, sep, rest = url[len(base):].partition("?")
    if not path.startswith("/") or path.startswith(PREFIX + "/"):
        return url
    path, hash_sep, fragment = path.partition("#")
    twin = traditional_path(path)
    return base + twin + hash_sep + fragment + sep + rest if twin else url


def to_traditional(html):
    """The page in traditional script.

    Every text and attribute to convert goes to OpenCC in one call, joined by a character no
    page holds (the loader refuses control characters): a call a text node took 1.6 ms a page.
    """
    pieces = []  # what OpenCC converts, in order; the page refers to them by number

    def later(text):
        pieces.append(text)
        return f"\x1e{len(pieces) - 1}\x1e"

    parts = TAG.split(html.replace("\x1e", ""))
    for i, part in enumerate(parts):
        if i % 2 == 0:
            parts[i] = later(part) if part.strip() else part
            continue
        if part.startswith("<html"):
            part = part.replace('lang="zh-CN"', 'lang="zh-Hant"', 1)
        elif "hreflang=" not in part and (part.startswith(("<a ", "<form ")) or 'rel="canonical"' in part):
            part = TARGET.sub(lambda m: f'{m[1]}="{localized(m[2])}"', part)
        if 'property="og:url"' in part:
            part = re.sub(r'content="([^"]*)"', lambda m: f'content="{localized(m[1])}"', part)
        else:
            part = READ_ATTRIBUTE.sub(lambda m: f'{m[1]}="{later(m[2])}"', part)
        parts[i] = part
    converted = converter()("\x1f".join(pieces)).split("\x1f")
    return PLACE.sub(lambda m: converted[int(m[1])], "".join(parts))


def in_traditional(request):
    """Whether the request is for a traditional page: its path, as asked, under PREFIX."""
    return request.path.startswith(PREFIX + "/")

"""Traditional script: every HTML page of the site also under /zh-hant/, converted from the
simplified page with OpenCC, as zh.wikipedia lets its readers choose.

In Taiwan's standard characters (s2tw: 為, 啟, 群, where s2t gives 爲, 啓, 羣), characters only:
s2twp would also change words, and on these texts changes their meaning (救助對象 becomes
救助物件, 社區 becomes 社群, 調度 becomes 排程), so the bulletins' wording stays as written.

Text is converted, and the attributes a reader reads or hears (title, aria-label, content,
placeholder); ids and link targets never are, so a section's address is the same in both
scripts. Links to other pages lead to their traditional pages. Pure functions of the HTML.
"""

import re
from functools import cache

from django.conf import settings

from .routes import paths_named

PREFIX = "/zh-hant"
LANGUAGE = "zh-hant"  # settings.LANGUAGES: the catalogue of the site's own words (locale/zh_Hant)
# The pages, by urls.py's names, that have a traditional twin: HTML only (the API, feeds and
# sitemaps are data).
TWINS = ("index", "article", "section", "paragraph", "regions", "region", "year", "search")
# Attributes that name or lead somewhere: kept as they are, whatever script they are in.
KEPT = re.compile(r'\b(?:id|href|action|value|name|for|data-[a-z-]+)="[^"]*"')
LINK_TAG = re.compile(r'<(?:a|form)\s[^>]*>|<link rel="canonical"[^>]*>|<meta property="og:url"[^>]*>')
TARGET = re.compile(r'\b(href|action|content)="([^"]*)"')
PLACE = re.compile("\x1e(\\d+)\x1e")


@cache
def converter():
    """OpenCC's converter, loaded at the first traditional page (its dictionaries are a few MB)."""
    import opencc

    return opencc.OpenCC("s2tw").convert


def traditional_path(path):
    """The traditional twin of a simplified page's path, or None for what has none."""
    return PREFIX + path if paths_named(*TWINS).match(path) else None


def localized(url):
    """A link to one of our pages, made a link to its traditional twin; any other left alone."""
    site = settings.BULLETINS_SITE_URL
    base = site if site and url.startswith(site + "/") else ""
    path, sep, rest = url[len(base) :].partition("?")
    if not path.startswith("/") or path.startswith(PREFIX + "/"):
        return url
    path, hash_sep, fragment = path.partition("#")
    twin = traditional_path(path)
    return base + twin + hash_sep + fragment + sep + rest if twin else url


def to_traditional(html):
    """The page in traditional script: converted whole in one OpenCC call, with the attributes
    that name or lead somewhere set aside (the loader refuses the control character that marks
    their places), then links to our pages pointed at their twins."""
    kept = []

    def set_aside(match):
        kept.append(match[0])
        return f"\x1e{len(kept) - 1}\x1e"

    html = converter()(KEPT.sub(set_aside, html.replace("\x1e", "")))
    html = PLACE.sub(lambda m: kept[int(m[1])], html).replace('<html lang="zh-CN"', '<html lang="zh-Hant"', 1)
    return LINK_TAG.sub(lambda tag: tag[0] if "hreflang=" in tag[0] else TARGET.sub(lambda m: f'{m[1]}="{localized(m[2])}"', tag[0]), html)


def in_traditional(request):
    """Whether the request is for a traditional page: its path, as asked, under PREFIX."""
    return request.path.startswith(PREFIX + "/")

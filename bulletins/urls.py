"""Every URL of the site, and the one place that spells them: everywhere else they come from
reverse(), url() in templates, or paths_named()."""

import re
from functools import cache

from django.urls import get_resolver, path

from . import sitemaps, views
from .caching import conditional
from .feeds import BulletinsAtomFeed, BulletinsFeed, RegionAtomFeed, YearAtomFeed

urlpatterns = [
    path("", views.index, name="index"),
    path("articles/<slug:slug>/", views.article, name="article"),
    path("articles/<slug:slug>/s/<int:number>/", views.section, name="section"),
    path("articles/<slug:slug>/p/<int:number>/", views.paragraph, name="paragraph"),
    path("regions/", views.regions, name="regions"),
    path("regions/<str:region>/", views.region, name="region"),
    path("regions/<str:region>/feed/", conditional(RegionAtomFeed()), name="region-feed"),
    path("years/<int:year>/", views.year, name="year"),
    path("years/<int:year>/feed/", conditional(YearAtomFeed()), name="year-feed"),
    path("search/", views.search_page, name="search"),
    path("api/search", views.api_search, name="api-search"),
    path("api/articles/", views.api_articles, name="api-articles"),
    path("api/articles/<slug:slug>/", views.api_article, name="api-article"),
    path("api/articles/<slug:slug>/related", views.api_related, name="api-related"),
    path("feeds/atom/", conditional(BulletinsAtomFeed()), name="feed-atom"),
    path("feeds/rss/", conditional(BulletinsFeed()), name="feed-rss"),
    path("sitemap.xml", sitemaps.index, name="sitemap"),
    path("sitemap-<slug:section>.xml", sitemaps.section, name="sitemap-section"),
    path("robots.txt", views.robots_txt, name="robots"),
    path("healthz", views.healthz, name="healthz"),
]

handler404 = views.page_not_found
handler500 = views.server_error


def pattern_named(name):
    return next(pattern for pattern in get_resolver().url_patterns if pattern.name == name)


@cache
def paths_named(*names):
    """A regex that matches the paths (with their leading /) of the URL patterns named `names`:
    for what must know a page's kind before URL resolution (StoredPageMiddleware,
    bulletins.script), without spelling its URL a second time."""
    alternatives = []
    for pattern in get_resolver().url_patterns:
        if pattern.name in names:
            regex = pattern.pattern.regex.pattern.removeprefix("^").removesuffix("\\Z").removesuffix("$")
            alternatives.append(re.sub(r"\(\?P<\w+>", "(?:", regex))
    return re.compile("^/(?:" + "|".join(alternatives) + ")$")

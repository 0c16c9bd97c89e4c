"""Every URL of the site, and the one place that spells them: everywhere else they come from
reverse(), url() in templates, or routes.py."""

from django.urls import path

from . import api, sitemaps, views
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
    path("api/search", api.api_search, name="api-search"),
    path("api/articles/", api.api_articles, name="api-articles"),
    path("api/articles/<slug:slug>/", api.api_article, name="api-article"),
    path("api/articles/<slug:slug>/related", api.api_related, name="api-related"),
    path("feeds/atom/", conditional(BulletinsAtomFeed()), name="feed-atom"),
    path("feeds/rss/", conditional(BulletinsFeed()), name="feed-rss"),
    path("sitemap.xml", sitemaps.index, name="sitemap"),
    path("sitemap-<slug:section>.xml", sitemaps.section, name="sitemap-section"),
    path("robots.txt", views.robots_txt, name="robots"),
    path("healthz", views.healthz, name="healthz"),
]

handler404 = views.page_not_found
handler500 = views.server_error

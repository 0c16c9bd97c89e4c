"""The sitemap: an index (/sitemap.xml) of sitemaps of at most 10,000 URLs each, as the
protocol allows, so an archive of any size is listed whole."""

import dataclasses
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.contrib.sitemaps import views as sitemap_views

from .caching import conditional
from .models import Article


class UnderSiteUrl:
    """Locations under BULLETINS_SITE_URL when it is set, as pages' canonical links are."""

    def get_protocol(self, protocol=None):
        return urlsplit(settings.BULLETINS_SITE_URL).scheme if settings.BULLETINS_SITE_URL else super().get_protocol(protocol)

    def get_domain(self, site=None):
        return urlsplit(settings.BULLETINS_SITE_URL).netloc if settings.BULLETINS_SITE_URL else super().get_domain(site)


class ArticleSitemap(UnderSiteUrl, Sitemap):
    limit = 10_000

    def items(self):
        return Article.objects.only("slug", "date", "added")

    def lastmod(self, item):
        """As Last-Modified: the content's dates, never the time of a load."""
        days = [d for d in (item.added, item.date) if d]
        return max(days) if days else None


class HomeSitemap(UnderSiteUrl, Sitemap):
    priority = 1.0

    def items(self):
        return ["/"]

    def location(self, item):
        return item


SITEMAPS = {"home": HomeSitemap, "articles": ArticleSitemap}


@conditional
def index(request):
    """Django's sitemap index, its locations under BULLETINS_SITE_URL when it is set."""
    response = sitemap_views.index(request, SITEMAPS, sitemap_url_name="sitemap-section")
    if settings.BULLETINS_SITE_URL:
        here = f"{request.scheme}://{request.get_host()}"
        response.context_data["sitemaps"] = [
            dataclasses.replace(item, location=settings.BULLETINS_SITE_URL + item.location.removeprefix(here))
            for item in response.context_data["sitemaps"]
        ]
    return response


@conditional
def section(request, section):
    return sitemap_views.sitemap(request, SITEMAPS, section=section)

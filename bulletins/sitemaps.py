from django.contrib.sitemaps import Sitemap

from .models import Article


class ArticleSitemap(Sitemap):
    limit = 10_000

    def items(self):
        return Article.objects.only("slug", "loaded_at")

    def lastmod(self, item):
        return item.loaded_at


class HomeSitemap(Sitemap):
    priority = 1.0

    def items(self):
        return ["/"]

    def location(self, item):
        return item

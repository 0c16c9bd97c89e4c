"""Atom and RSS feeds of the bulletins, newest in the archive first, whole texts, each dated
alike in both: the day its text states, else the day it joined the archive."""

import re

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.db.models import F
from django.http import Http404
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from .models import Article, day_start

SITE_NAME = "民政公报"
SITE_DESCRIPTION = "各地民政工作信息原文发布"


# The page's own links to a section or a paragraph (content.py): nothing to a feed reader.
PERMALINK = re.compile(r'<a [^>]*class="(?:headerlink|pilcrow)"[^>]*></a>')


def latest(articles):
    """The fifty that joined the archive last, with their sections: each entry is a whole text."""
    return articles.order_by(F("added").desc(nulls_last=True), "order", "slug").prefetch_related("sections")[:50]


def full_text(article):
    """The bulletin as a feed reader shows it: its dates and origin, then its sections."""
    html = render_to_string("feed_entry.html", {"article": article, "sections": article.sections.all()})
    return PERMALINK.sub("", html)


class FullTextAtom1Feed(Atom1Feed):
    """Atom with each entry's whole text in <content>, beside its summary."""

    def add_item_elements(self, handler, item):
        super().add_item_elements(handler, item)
        handler.addQuickElement("content", item["content"], {"type": "html"})


class BulletinsFeed(Feed):
    """Links under BULLETINS_SITE_URL when it is set (Django adds the request's host only to
    links that have none), as pages' canonical links are."""

    title = SITE_NAME
    description = SITE_DESCRIPTION
    url_name = "feed-rss"
    language = "zh-cn"
    author_name = SITE_NAME  # Atom wants an author; a bulletin's own is its byline or source

    def link(self):
        return settings.BULLETINS_SITE_URL + "/"

    def feed_url(self):
        return settings.BULLETINS_SITE_URL + reverse(self.url_name) if settings.BULLETINS_SITE_URL else None

    def item_link(self, item):
        return settings.BULLETINS_SITE_URL + item.get_absolute_url()

    def items(self):
        return latest(Article.objects.all())

    def item_title(self, item):
        return item.title

    def item_description(self, item):
        """RSS's description holds the whole text, as full-text feeds do."""
        return full_text(item)

    def item_author_name(self, item):
        return item.byline or item.source or None

    def item_categories(self, item):
        return [item.region] if item.region else []

    def item_pubdate(self, item):
        """The day the text states, else the day it joined the archive: a 2023 meeting is not
        today's news. The entry's text says which (full_text)."""
        day = item.date or item.added
        return day_start(day) if day else None

    def item_updateddate(self, item):
        """The same day: Atom's <updated>, which readers show, says what RSS's <pubDate> says."""
        return self.item_pubdate(item)


class BulletinsAtomFeed(BulletinsFeed):
    feed_type = FullTextAtom1Feed
    url_name = "feed-atom"
    subtitle = SITE_DESCRIPTION

    def item_description(self, item):
        return item.summary

    def item_extra_kwargs(self, item):
        return {"content": full_text(item)}


class FilteredAtomFeed(BulletinsAtomFeed):
    """The bulletins of one key of the archive (a region, a year): a subclass names its pages
    (page_name, feed_name), its bulletins (articles) and how the key reads (name)."""

    page_name = feed_name = None

    def articles(self, key):
        raise NotImplementedError

    def name(self, key):
        return str(key)

    def get_object(self, request, **url):
        (key,) = url.values()  # the region, or the year
        if not self.articles(key).exists():
            raise Http404(f"no bulletin under {key}")
        return key

    def title(self, key):
        return f"{SITE_NAME} · {self.name(key)}"

    def link(self, key):
        return settings.BULLETINS_SITE_URL + reverse(self.page_name, args=[key])

    def feed_url(self, key):
        return settings.BULLETINS_SITE_URL + reverse(self.feed_name, args=[key]) if settings.BULLETINS_SITE_URL else None

    def items(self, key):
        return latest(self.articles(key))


class RegionAtomFeed(FilteredAtomFeed):
    """One region's bulletins, for a reader who follows that region only."""

    page_name, feed_name = "region", "region-feed"

    def articles(self, region):
        return Article.objects.in_region(region)


class YearAtomFeed(FilteredAtomFeed):
    """The bulletins whose text dates them in one year."""

    page_name, feed_name = "year", "year-feed"

    def articles(self, year):
        return Article.objects.dated_in(year)

    def name(self, year):
        return f"{year}年"

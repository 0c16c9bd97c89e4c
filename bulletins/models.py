"""What the loader publishes: articles, their sections, and the version of the whole."""

import datetime
import functools
from typing import NamedTuple
from urllib.parse import quote

from django.db import connection, connections, models
from django.urls import get_script_prefix
from django.utils import timezone
from markupsafe import Markup

from . import content
from .routes import article_url_around_slug


def day_start(day):
    """Midnight of a day, in the site's time zone."""
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time()))


class ArticleQuerySet(models.QuerySet):
    def in_region(self, region):
        return self.filter(region=region)

    def dated_in(self, year):
        """The bulletins whose text dates them in `year`: none for a year no date can have (0,
        10000: a URL may ask for any number)."""
        if not datetime.MINYEAR <= year <= datetime.MAXYEAR:
            return self.none()
        return self.filter(date__year=year)

    def undated(self):
        """The bulletins whose text states no date: under no year."""
        return self.filter(date=None)

    def years(self):
        """[{"year", "count"}]: every year the texts date, with its bulletins, the latest first."""
        return list(self.exclude(date=None).values(year=models.F("date__year")).annotate(count=models.Count("id")).order_by("-year"))

    def regions(self):
        """[{"region", "count"}]: every region named, with its bulletins, the most first."""
        return list(self.exclude(region="").values("region").annotate(count=models.Count("id")).order_by("-count", "region"))

    def newest_first(self):
        """Latest to join the archive first; among those of a day, the latest the text dates."""
        return self.order_by("-added", models.F("date").desc(nulls_last=True), "order", "slug")

    def last_modified(self):
        """The latest last_modified() of the published bulletins: the archive's, for its lists."""
        days = [d for d in self.aggregate(a=models.Max("added"), d=models.Max("date")).values() if d]
        return int(day_start(max(days)).timestamp()) if days else 0

    def summaries(self, ids):
        """{id: article} with the fields that search results show and match, nothing more.

        Written out, as Page's query is: compiling it with the ORM costs more than running it.
        """
        ids, fields = list(ids), ("id", "slug", "title", "region", "byline", "source", "date", "summary")
        if not ids:
            return {}
        with connections[self.db].cursor() as cursor:
            cursor.execute(f"SELECT {', '.join(fields)} FROM {Article._meta.db_table} WHERE id IN ({', '.join(['%s'] * len(ids))})", ids)
            rows = cursor.fetchall()
        date = Article._meta.get_field("date")
        articles = [Article(**dict(zip(fields, row, strict=True))) for row in rows]
        for article in articles:
            article.date, article.added = date.to_python(article.date), date.to_python(article.added)
        return {article.pk: article for article in articles}


class Article(models.Model):
    """One bulletin, as parsed from one file of `content/`."""

    slug = models.SlugField(max_length=100, unique=True)
    source_path = models.CharField(max_length=255, unique=True, help_text="File name within content/.")
    source_hash = models.CharField(max_length=64, help_text="Digest of the file and the parser version.")
    source_stat = models.CharField(
        max_length=100, blank=True, help_text="Size, mtime and parser version: equal means unchanged, without reading the file."
    )
    title = models.CharField(max_length=300)
    title_html = models.TextField(blank=True, help_text="The title escaped, <wbr> between its words (typeset.breaks): made at load.")
    region = models.CharField(max_length=50, blank=True, db_index=True)
    source = models.CharField(max_length=200, blank=True)
    byline = models.CharField(max_length=200, blank=True)
    date = models.DateField(null=True, blank=True, help_text="The day the text states, if it states one.")
    added = models.DateField(null=True, blank=True, help_text="The day the bulletin joined this archive (its file says).")
    order = models.IntegerField(default=0)
    summary = models.TextField()
    loaded_at = models.DateTimeField()

    objects = ArticleQuerySet.as_manager()

    class Meta:
        ordering = ["order", "slug"]
        indexes = [models.Index(fields=["order", "slug"], name="article_reading_order")]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        before, after = article_url_around_slug(get_script_prefix())
        return f"{before}{self.slug}{after}"

    @property
    def title_markup(self):
        """The title as a list shows it: breaking between words, without segmenting it per request."""
        return Markup(self.title_html) if self.title_html else self.title

    def last_modified(self):
        """When this bulletin last changed, as the content says (the day it was added, or its
        stated day if later), in seconds since 1970; 0 where the content says neither. Never the
        time of a load, so every server built from the same content answers alike."""
        days = [d for d in (self.added, self.date) if d]
        return int(day_start(max(days)).timestamp()) if days else 0

    def previous(self):
        earlier = models.Q(order__lt=self.order) | models.Q(order=self.order, slug__lt=self.slug)
        return Article.objects.filter(earlier).order_by("-order", "-slug").first()

    def next(self):
        later = models.Q(order__gt=self.order) | models.Q(order=self.order, slug__gt=self.slug)
        return Article.objects.filter(later).first()


class SectionQuerySet(models.QuerySet):
    def titled(self):
        return self.exclude(title="")

    def for_results(self, ids):
        """{id: section} of search results, each with its article's slug, title and region.

        Written out, as Page's query is: compiling it with the ORM and filling whole articles
        cost more than the rest of a search.
        """
        if not ids:
            return {}
        with connections[self.db].cursor() as cursor:
            cursor.execute(
                f"SELECT s.id, s.position, s.anchor, s.title, s.text, s.first, s.singles, s.streams, a.id, a.slug, a.title, a.region "
                f"FROM {Section._meta.db_table} s "
                f"JOIN {Article._meta.db_table} a ON a.id = s.article_id WHERE s.id IN ({', '.join(['%s'] * len(ids))})",
                list(ids),
            )
            rows = cursor.fetchall()
        return {
            section_id: Section(
                id=section_id,
                position=position,
                anchor=anchor,
                title=title,
                text=text,
                first=first,
                singles=singles,
                streams=streams,
                article=Article(id=article_id, slug=slug, title=article_title, region=region),
            )
            for section_id, position, anchor, title, text, first, singles, streams, article_id, slug, article_title, region in rows
        }


class Section(models.Model):
    """A linkable part of an article: a titled section, or untitled paragraphs between them."""

    article = models.ForeignKey(Article, related_name="sections", on_delete=models.CASCADE)
    position = models.PositiveIntegerField()
    anchor = models.CharField(max_length=200)
    title = models.CharField(max_length=300, blank=True)
    level = models.PositiveSmallIntegerField()
    run_in = models.BooleanField(default=False, help_text="the title is bold at the start of the first paragraph")
    html = models.TextField(help_text="Rendered once at load, never per request.")
    text = models.TextField(help_text="Plain text, one block per line, for search and snippets.")
    first = models.PositiveIntegerField(default=1, help_text="The number of its first block in the whole bulletin, from 1.")
    singles = models.TextField(
        blank=True, help_text="Where the text's segmentation has one-character words: a line of offsets for the title, then one a block."
    )
    streams = models.TextField(blank=True, help_text="What search matches of the title, then of each block (searchable()), a line each.")

    objects = SectionQuerySet.as_manager()

    class Meta:
        ordering = ["article", "position"]
        constraints = [
            models.UniqueConstraint(fields=["article", "position"], name="section_position_unique"),
            models.UniqueConstraint(fields=["article", "anchor"], name="section_anchor_unique"),
        ]

    def __str__(self):
        return f"{self.article.slug}#{self.anchor}"

    @property
    def paragraphs(self):
        return self.text.split("\n")

    def single_words(self, index=None):
        """search.text.single_words() of the title (index None) or of the paragraph at `index`, as the load stored them."""
        lines = self.singles.split("\n")
        line = lines[0 if index is None else index + 1] if len(lines) > (0 if index is None else index + 1) else ""
        return [int(offset) for offset in line.split()]

    def stream(self, index=None):
        """search.text.searchable() of the title (index None) or of the paragraph at `index`, as
        the load stored it; None for a section stored before loads did."""
        return self.streams.split("\n")[0 if index is None else index + 1] if self.streams else None

    def number(self, index):
        """The paragraph at `index` (from 0) counted as the page counts its blocks: 第 n 段."""
        return self.first + index

    def block_id(self, index):
        """The id of the paragraph at `index` (from 0), as the loader rendered it."""
        return content.block_id(self.anchor, index + 1)

    def fragment(self, index=None):
        """The URL fragment of the section, or of one of its paragraphs."""
        return quote(self.anchor if index is None else self.block_id(index))


class StoredPage(NamedTuple):
    """An article's page (or its traditional twin) as stored: what answering it needs."""

    etag: str
    last_modified: int
    html: bytes
    gzip: bytes
    br: bytes


class PageQuerySet(models.QuerySet):
    def for_slug(self, slug, traditional=False):
        """The StoredPage of the article's page, or of its traditional twin, or None.

        The hottest query of the site, so written out: compiling it with the ORM took longer
        than running it and answering.
        """
        columns = (
            "p.hant_etag, p.last_modified, p.hant_html, p.hant_gzip, p.hant_br"
            if traditional
            else "p.etag, p.last_modified, p.html, p.html_gzip, p.html_br"
        )
        with connections[self.db].cursor() as cursor:
            cursor.execute(
                f"SELECT {columns} FROM {Page._meta.db_table} p JOIN {Article._meta.db_table} a ON a.id = p.article_id WHERE a.slug = %s",
                [slug],
            )
            row = cursor.fetchone()
        return StoredPage(*row) if row else None


class Page(models.Model):
    """An article's page as a reader without ?hl= gets it, rendered at load and served as stored bytes.

    A table of its own, so that lists of articles never read the pages. `key` digests what the
    page was rendered from (the article, its neighbours, the templates and code), so a load
    renders again exactly the pages that would come out different.
    """

    article = models.OneToOneField(Article, primary_key=True, related_name="page", on_delete=models.CASCADE)
    key = models.CharField(max_length=64)
    etag = models.CharField(max_length=66, help_text="A weak validator (the gzipped bytes share it): a digest of the HTML.")
    last_modified = models.BigIntegerField(help_text="When these bytes were first rendered, in seconds since 1970, as HTTP has it.")
    html = models.BinaryField(help_text="UTF-8.")
    html_gzip = models.BinaryField(help_text="The same bytes gzipped once, for the browsers that accept it.")
    html_br = models.BinaryField(default=b"", help_text="The same bytes compressed with brotli once, for the browsers that accept it.")
    hant_etag = models.CharField(max_length=66, default="", help_text="The traditional twin's (bulletins.traditional).")
    hant_html = models.BinaryField(default=b"", help_text="The page in traditional script, UTF-8.")
    hant_gzip = models.BinaryField(default=b"", help_text="The same bytes gzipped once.")
    hant_br = models.BinaryField(default=b"", help_text="The same bytes compressed with brotli once.")

    objects = PageQuerySet.as_manager()

    def __str__(self):
        return f"page of {self.article_id}"


def one_version(function):
    """Run `function` on one snapshot of the database: a load that commits while it reads (the
    search index's hits, then the sections they name) is not seen halfway. SQLite's deferred
    transaction takes no lock and reads as of its first query; atomic() would not do, as its
    transactions here take the write lock (transaction_mode IMMEDIATE). For reading only."""

    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        if connection.in_atomic_block:  # a test's transaction, or a load's: one snapshot already
            return function(*args, **kwargs)
        connection.ensure_connection()
        if connection.connection.in_transaction:  # called by a function that already runs on one
            return function(*args, **kwargs)
        connection.connection.execute("BEGIN")
        try:
            return function(*args, **kwargs)
        finally:
            if connection.connection is not None and connection.connection.in_transaction:
                connection.connection.rollback()  # nothing was written

    return wrapper


class ContentState(models.Model):
    """The published content's version: one row, changed by every load that changes anything."""

    version = models.CharField(max_length=64)
    article_count = models.PositiveIntegerField(default=0)
    rendering = models.CharField(max_length=300, blank=True, help_text="What the stored pages were rendered with.")
    last_modified = models.BigIntegerField(default=0, help_text="Article.objects.last_modified() of this content: for HTTP.")
    index_version = models.CharField(max_length=100, blank=True, help_text="The search index's folder for this content.")
    updated_at = models.DateTimeField()
    last_load = models.CharField(max_length=500, blank=True, help_text="When the last load ended, and how: for /healthz.")
    refused = models.JSONField(default=list, blank=True, help_text="The files the last load refused, as file:line: message.")

    def __str__(self):
        return f"content {self.version}"

    @classmethod
    def current(cls):
        return cls.objects.filter(pk=1).first()

    @classmethod
    def index_name(cls):
        """The search index version that the published content names: read by every search."""
        with connections[cls.objects.db].cursor() as cursor:
            cursor.execute(f"SELECT index_version FROM {cls._meta.db_table} WHERE id = 1")
            row = cursor.fetchone()
        return row[0] if row else ""

    @classmethod
    def published(cls):
        """(version, seconds since 1970 of the content's last change as the content dates it) of
        what is published, or None.

        Read by every page that is not stored, so written out, as Page's query is.
        """
        with connections[cls.objects.db].cursor() as cursor:
            cursor.execute(f"SELECT version, last_modified FROM {cls._meta.db_table} WHERE id = 1")
            return cursor.fetchone()

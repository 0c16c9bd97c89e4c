"""The search index: tantivy, one folder per published content version, beside the database.

Every run of 1 to MAX_GRAM searchable characters of a text is a term, so any string that
stands in a bulletin is one term (up to MAX_GRAM characters) or a chain of overlapping ones,
and ranking can stop early, as block-max WAND does, rather than score every match.

A load writes a new version folder (hard links to the previous version's files, which
tantivy never changes, then the changed bulletins deleted and added again), and names it in
the same transaction that publishes the content it indexes. A load that fails removes its
folder, so the previous version keeps serving; a process that holds a searcher keeps
answering from its version while another is built; versions older than the previous one are
removed after each load.

Two kinds of document share the index:
- a section: its title and body, and its bulletin's fields in `lift`, which ranks but never
  matches, so that a bulletin's title or byline lifts its sections without listing them all;
- a bulletin (section_id 0): its fields in `meta`, which lists the bulletin once when they
  match, and all its text in `alltext`, which only counts and groups bulletins.
"""

import os
import shutil
import uuid
import zlib
from functools import cache
from pathlib import Path

from django.conf import settings

from .text import searchable

FORMAT = "2"  # part of every version's name: change it when the schema or the terms change
MAX_GRAM = 6
GRAMS = "grams"
WRITER_HEAP = 100_000_000
OWN_FIELDS = ("title", "body", "meta")  # what lists a document when it matches
SECTION_FIELDS = ("title", "body")
SCORED_FIELDS = ("title", "body", "meta", "lift")
BULLETIN_FIELDS = ("meta", "alltext")  # a bulletin matches when any of its own text does


@cache
def schema():
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("section_id", fast=True)
    builder.add_integer_field("stable", fast=True)  # orders equal scores alike on every server
    builder.add_integer_field("article_id", indexed=True, fast=True)
    builder.add_text_field("region", tokenizer_name="raw", fast=True)
    for name in SCORED_FIELDS:
        builder.add_text_field(name, tokenizer_name=GRAMS, index_option="freq")
    builder.add_text_field("alltext", tokenizer_name=GRAMS, index_option="basic")
    return builder.build()


def register_tokenizer(index):
    """tantivy keeps a custom tokenizer's name in the index, not the tokenizer: every opening registers it."""
    import tantivy

    index.register_tokenizer(GRAMS, tantivy.TextAnalyzerBuilder(tantivy.Tokenizer.ngram(1, MAX_GRAM)).build())
    return index


def root():
    return Path(settings.BULLETINS_INDEX_DIR)


def article_fields(article):
    """The bulletin's own fields, as search matches them: title, region, byline, source and date."""
    values = [article.title, article.region, article.byline, article.source]
    if article.date:
        values += [f"{article.date.year}年{article.date.month}月{article.date.day}日", article.date.isoformat()]
    return [s for s in map(searchable, values) if s]


def documents(article, sections):
    """The index documents of one bulletin: a section each, and the bulletin itself."""
    import tantivy

    meta = article_fields(article)
    own = []
    for section in sections:
        title, body = searchable(section.title), searchable(section.text.replace("\n", " "))
        own += [title, body]
        doc = tantivy.Document(
            section_id=section.pk,
            stable=stable(article.slug, section.position),
            article_id=article.pk,
            region=article.region,
            lift=meta,
        )
        for name, value in (("title", title), ("body", body)):
            if value:
                doc.add_text(name, value)
        yield doc
    yield tantivy.Document(
        section_id=0,
        stable=stable(article.slug, 0),
        article_id=article.pk,
        region=article.region,
        meta=meta,
        alltext=[s for s in own if s],
    )


def stable(slug, position):
    """A document's key for ordering equal scores: from the content alone, so that servers built
    at different times, whose database ids and index segments differ, list them alike."""
    return zlib.crc32(f"{slug}#{position}".encode())


class Build:
    """A new version of the index, made from the previous one (or from nothing) by one load."""

    def __init__(self, previous=None):
        import tantivy

        self.name, self.previous = f"v{FORMAT}-{uuid.uuid4().hex[:12]}", previous or ""
        self.path = root() / self.name
        self.path.mkdir(parents=True)
        self.incremental = bool(previous) and previous.startswith(f"v{FORMAT}-") and (root() / previous / "meta.json").is_file()
        if self.incremental:
            for source in (root() / previous).iterdir():
                if source.is_file() and not source.name.startswith(".tantivy-"):  # lock files stay apart
                    os.link(source, self.path / source.name)
        self.index = register_tokenizer(tantivy.Index(schema(), path=str(self.path), reuse=self.incremental))
        self.writer = self.index.writer(WRITER_HEAP, 1)

    def remove(self, article_ids):
        for article_id in article_ids:
            self.writer.delete_documents_by_term("article_id", article_id)

    def add(self, article, sections):
        for doc in documents(article, sections):
            self.writer.add_document(doc)

    def commit(self):
        self.writer.commit()
        self.writer.wait_merging_threads()
        self.writer = self.index = None
        return self.name

    def discard(self):
        self.writer = self.index = None
        shutil.rmtree(self.path, ignore_errors=True)


def exists(name):
    return bool(name) and (root() / name / "meta.json").is_file()


def remove_old_versions(current, previous):
    """Remove all but the published version, the one before it (which workers may still hold)
    and, of the others, the BULLETINS_INDEX_KEEP - 2 newest."""
    if not root().is_dir():
        return
    others = sorted((p for p in root().iterdir() if p.is_dir() and p.name not in (current, previous)), key=modified, reverse=True)
    for path in others[max(0, settings.BULLETINS_INDEX_KEEP - 2) :]:
        shutil.rmtree(path, ignore_errors=True)


def modified(path):
    try:
        return path.stat().st_mtime_ns
    except FileNotFoundError:
        return 0


def occurs(searcher):
    """A test of whether a string of up to MAX_GRAM characters stands in any document's own text."""
    return lambda string: any(searcher.doc_freq(name, string) for name in OWN_FIELDS)


_opened = {}  # {(process id, version name): searcher}: at most one version per process


def searcher(name):
    """A searcher of the named version, opened once per process (after gunicorn's fork)."""
    key = (os.getpid(), name)
    found = _opened.get(key)
    if found is None:
        import tantivy

        index = register_tokenizer(tantivy.Index.open(str(root() / name)))
        index.config_reader("Manual", 0)  # a version never changes: no watcher thread
        found = index.searcher()
        _opened.clear()
        _opened[key] = found
    return found

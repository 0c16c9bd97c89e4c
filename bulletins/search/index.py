"""The search index: tantivy, one folder per published content version, beside the database.

Every run of 1 to MAX_GRAM searchable characters of a text is a term, so any string that
stands in a bulletin is one term (up to MAX_GRAM characters) or a chain of overlapping ones,
and ranking can stop early, as block-max WAND does, rather than score every match.

A load writes a new version folder (hard links to the previous version's files, which
tantivy never changes, then the new bulletins added), and names it in
the same transaction that publishes the content it indexes. A load that fails removes its
folder, so the previous version keeps serving; a process that holds a searcher keeps
answering from its version while another is built; versions older than the previous one are
removed after each load.

Two kinds of document share the index:
- a paragraph: its section's title and its own text (body), the one-character words of both
  (`singles`), and its bulletin's fields in `lift`, which ranks but never matches, so that a
  bulletin's title or byline lifts its paragraphs without listing them all. A paragraph, not
  a section, is what a result quotes and links to, so it is what is ranked and judged;
- a bulletin (section_id 0): its fields in `meta`, which lists the bulletin once when they
  match, and all its text in `alltext` (its one-character words in `singles`), which only
  counts and groups bulletins.

An index updated in place keeps its deleted documents in BM25's statistics until tantivy
merges them away, so a load that replaces or removes a bulletin builds the index afresh:
what a replica answers depends on the content alone, not on the loads that led to it.
"""

import hashlib
import json
import math
import os
import shutil
import time
import uuid
import zlib
from functools import cache
from pathlib import Path

from django.conf import settings

from .text import searchable

FORMAT = "3"  # part of every version's name: change it when the schema or the terms change
MAX_GRAM = 6
GRAMS = "grams"
WRITER_HEAP = 100_000_000  # per indexing thread
FRESH_THREADS = min(2, os.cpu_count() or 1)  # a fresh build indexes the whole archive: 7.8 s against 12.7 s at 10,000 bulletins
OWN_FIELDS = ("title", "body", "meta")  # what lists a document when it matches
SECTION_FIELDS = ("title", "body")
SCORED_FIELDS = ("title", "body", "meta", "lift")
BULLETIN_FIELDS = ("meta", "alltext")  # a bulletin matches when any of its own text does
SINGLES = "singles"
MANIFEST = "bulletins-manifest.json"  # the files of a committed version, to tell a damaged one
STATS_FIELDS = ("title", "body", "lift")  # where a word's rarity is counted


@cache
def schema():
    import tantivy

    builder = tantivy.SchemaBuilder()
    builder.add_integer_field("section_id", fast=True)
    builder.add_integer_field("paragraph", fast=True)  # its index in the section, from 0
    builder.add_integer_field("stable", fast=True)  # orders equal scores alike on every server
    builder.add_integer_field("article_id", indexed=True, fast=True)
    builder.add_text_field("region", tokenizer_name="raw", fast=True)
    for name in SCORED_FIELDS:
        builder.add_text_field(name, tokenizer_name=GRAMS, index_option="freq")
    builder.add_text_field("alltext", tokenizer_name=GRAMS, index_option="basic")
    builder.add_text_field(SINGLES, tokenizer_name="whitespace", index_option="freq")
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
    """The index documents of one bulletin: a paragraph each, and the bulletin itself."""
    import tantivy

    meta = article_fields(article)
    own, every_single = [], []
    for section in sections:
        stored = section.stream() is not None  # else stored before loads did: made here
        title = section.stream() if stored else searchable(section.title)
        in_title = [section.title[at] for at in section.single_words()]
        own.append(title)
        for index, paragraph in enumerate(section.paragraphs):
            body = section.stream(index) if stored else searchable(paragraph)
            singles = in_title + [paragraph[at] for at in section.single_words(index)]
            own.append(body)
            every_single += singles
            doc = tantivy.Document(
                section_id=section.pk,
                paragraph=index,
                stable=stable(article.slug, section.position, index),
                article_id=article.pk,
                region=article.region,
                lift=meta,
            )
            for name, value in (("title", title), ("body", body), (SINGLES, " ".join(singles))):
                if value:
                    doc.add_text(name, value)
            yield doc
    bulletin = tantivy.Document(
        section_id=0,
        paragraph=0,
        stable=stable(article.slug, 0, 0),
        article_id=article.pk,
        region=article.region,
        meta=meta,
        alltext=[s for s in own if s],
    )
    if every_single:
        bulletin.add_text(SINGLES, " ".join(every_single))
    yield bulletin


def stable(slug, position, paragraph):
    """A document's key for ordering equal scores: from the content alone, so that servers built
    at different times, whose database ids and index segments differ, list them alike."""
    return int.from_bytes(hashlib.blake2b(f"{slug}#{position}#{paragraph}".encode(), digest_size=7).digest(), "big")


class Build:
    """A new version of the index, made by one load from the previous one, or afresh (`fresh`, or
    when there is none to build on); `previous` stays on disk for the workers that hold it."""

    def __init__(self, previous=None, fresh=False):
        import tantivy

        self.name, self.previous = f"v{FORMAT}-{uuid.uuid4().hex[:12]}", previous or ""
        self.path = root() / self.name
        self.path.mkdir(parents=True)
        self.incremental = not fresh and usable(previous)
        if self.incremental:
            for source in (root() / previous).iterdir():
                if source.is_file() and not source.name.startswith(".tantivy-") and source.name != MANIFEST:  # lock files stay apart
                    os.link(source, self.path / source.name)
        self.index = register_tokenizer(tantivy.Index(schema(), path=str(self.path), reuse=self.incremental))
        threads = 1 if self.incremental else FRESH_THREADS
        self.writer = self.index.writer(WRITER_HEAP * threads, threads)

    def add(self, article, sections):
        for doc in documents(article, sections):
            self.writer.add_document(doc)

    def commit(self):
        self.writer.commit()
        self.writer.wait_merging_threads()
        self.writer = self.index = None
        write_manifest(self.path)
        return self.name

    def discard(self):
        self.writer = self.index = None
        shutil.rmtree(self.path, ignore_errors=True)


def index_files(path):
    """The files of a version that tantivy reads: meta.json and those of the segments it names."""
    meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
    segments = {segment["segment_id"].replace("-", "") for segment in meta["segments"]}
    return sorted(p.name for p in path.iterdir() if p.name == "meta.json" or p.name.split(".", 1)[0] in segments)


def fingerprint(path):
    """What the manifest holds of a file: its size, and the CRC of its first and last 64 KiB."""
    size = path.stat().st_size
    with open(path, "rb") as handle:
        head = handle.read(65536)
        handle.seek(max(0, size - 65536))
        tail = handle.read(65536)
    return [size, zlib.crc32(head + tail)]


def write_manifest(path):
    """Record each file of a committed version (a new file: never one that a hard link shares)."""
    manifest = {name: fingerprint(path / name) for name in index_files(path)}
    temporary = path / f"{MANIFEST}.tmp"
    temporary.write_text(json.dumps(manifest), encoding="utf-8")
    os.replace(temporary, path / MANIFEST)


def intact(name):
    """Whether the named version is on disk as it was committed: a version damaged or cut short
    under the running site (a truncated file would kill the worker that maps it) is not."""
    path = root() / name
    try:
        manifest = json.loads((path / MANIFEST).read_text(encoding="utf-8"))
        return bool(manifest) and all(fingerprint(path / file) == recorded for file, recorded in manifest.items())
    except (OSError, ValueError, TypeError):
        return False


def usable(name):
    """exists() and intact(): what a search may open, and what a load builds on."""
    return exists(name) and intact(name)


def exists(name):
    """Whether the named version is on disk, in this code's format (an older one is built again by the next load)."""
    return bool(name) and name.startswith(f"v{FORMAT}-") and (root() / name / "meta.json").is_file()


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


class Stats:
    """How often strings stand in the archive, from the index's term statistics: for parsing a
    query (which words jieba cut apart stand whole) and weighing its words (rare ones decide)."""

    def __init__(self, searcher):
        self.searcher = searcher
        self.documents = max(1, searcher.num_docs)

    def occurs(self, string):
        """Whether a string of up to MAX_GRAM characters stands in any document's own text."""
        return any(self.searcher.doc_freq(name, string) for name in OWN_FIELDS)

    def form_frequency(self, unit, form):
        """Documents that hold the form, about: a longer form is counted by its rarest gram."""
        if unit.whole_form(form):
            return self.searcher.doc_freq(SINGLES, form)
        grams = [form[i : i + MAX_GRAM] for i in range(0, max(1, len(form) - MAX_GRAM + 1))]
        return max(min(self.searcher.doc_freq(name, gram) for gram in grams) for name in STATS_FIELDS)

    def frequency(self, unit):
        return min(self.documents, sum(self.form_frequency(unit, form) for form in unit.forms))

    def weight(self, held):
        """BM25's inverse document frequency of a unit that `held` documents hold (frequency()): the rarer the higher."""
        return round(math.log(1 + (self.documents - held + 0.5) / (held + 0.5)), 6)


class Unavailable(Exception):
    """The published version is missing or damaged: searches wait for the repair that rebuilds it."""


_opened = {}  # {(process id, version name): (searcher, when last found intact)}: one version per process
CHECK_EVERY = 1.0  # seconds between two checks that an open version is still intact


def searcher(name):
    """A searcher of the named version, opened once per process (after gunicorn's fork), and
    found intact at most CHECK_EVERY seconds ago; else Unavailable."""
    key = (os.getpid(), name)
    found, checked = _opened.get(key, (None, 0.0))
    if time.monotonic() - checked < CHECK_EVERY:
        return found
    if not usable(name):
        _opened.clear()
        raise Unavailable(f"the search index {name or '(none)'} is missing or damaged")
    if found is None:
        import tantivy

        try:
            index = register_tokenizer(tantivy.Index.open(str(root() / name)))
            index.config_reader("Manual", 0)  # a version never changes: no watcher thread
            found = index.searcher()
        except ValueError as error:
            raise Unavailable(f"the search index {name} cannot be opened: {error}") from None
    _opened.clear()
    _opened[key] = (found, time.monotonic())
    return found

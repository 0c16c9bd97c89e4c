"""Publish what is in `content/`: parse changed files and write them to the database at once.

A load is one transaction, so a reader sees the old content or the new, never half of it.
A file that fails to parse is refused with its line, and its last good version stays published.
"""

import functools
import hashlib
import itertools
import logging
import os
import re
import shutil
import tempfile
import threading
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from . import content, pages, parsing, progress, typeset
from .models import Article, ContentState, Section
from .search import index
from .search.text import section_fields

logger = logging.getLogger(__name__)
SAVE_BATCH = 500  # bulletins written per statement: the ORM's cost is per statement, not per row
# What a parsed bulletin and its sections give their models under the same names.
ARTICLE_FIELDS = ("slug", "title", "region", "source", "byline", "date", "added", "order", "summary")
SECTION_FIELDS = ("anchor", "title", "level", "run_in", "html")
POOL_MIN_FILES = 200  # below, forking the workers costs more than it saves
LOG_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


@dataclass
class LoadReport:
    loaded: list = field(default_factory=list)
    unchanged: list = field(default_factory=list)
    removed: list = field(default_factory=list)
    refused: list = field(default_factory=list)  # ContentError, one per refused file
    rendered: int = 0  # pages rendered anew, the loaded articles' and their neighbours'

    def __str__(self):
        return (
            f"loaded {len(self.loaded)}, unchanged {len(self.unchanged)}, "
            f"removed {len(self.removed)}, refused {len(self.refused)}, pages rendered {self.rendered}"
        )


def content_files(directory):
    """The bulletin files of `directory` by name, as os.DirEntry: 10,000 Paths cost more than their stats."""
    return sorted((e for e in os.scandir(directory) if e.name.endswith(".md") and e.is_file()), key=lambda e: e.name)


def read(path):
    """A file's bytes, from a path or an os.DirEntry."""
    with open(path, "rb") as handle:
        return handle.read()


def file_stat(entry):
    """Size, modification time and parser version: while they hold, the file is not read again."""
    stat = entry.stat()
    return f"{stat.st_size}:{stat.st_mtime_ns}:{content.PARSER_VERSION}"


def printable(name):
    """A file name as the log and the database can hold it, whatever bytes the file system gave."""
    return os.fsencode(name).decode("utf-8", "replace")


def refusal(path, name):
    """The ContentError of a file that must not be read (refuse_file), or None."""
    try:
        refuse_file(path, name)
    except content.ContentError as error:
        return error
    except OSError as error:  # unreadable, or gone since the folder was listed
        return content.ContentError(printable(name), 1, f"cannot be read: {error.strerror or error}")
    return None


def refuse_file(path, name):
    """Raise the ContentError of a file that must not be read: a name that is not UTF-8, a link
    out of the content folder, a size over BULLETINS_MAX_FILE_BYTES."""
    try:
        name.encode("utf-8")
    except UnicodeEncodeError:
        raise content.ContentError(printable(name), 1, "the file name is not UTF-8: rename the file") from None
    folder = os.path.realpath(os.path.dirname(path))
    if os.path.commonpath([os.path.realpath(path), folder]) != folder:
        raise content.ContentError(name, 1, "links to a file outside the content folder")
    size = os.stat(path).st_size
    if size > settings.BULLETINS_MAX_FILE_BYTES:
        limit = settings.BULLETINS_MAX_FILE_BYTES
        raise content.ContentError(name, 1, f"{size:,} bytes: over the limit of {limit:,} (BULLETINS_MAX_FILE_BYTES)")


def segmented(claim):
    """(Bulletin, each section's section_fields()) of a claimed file, from its spool: segmenting
    the text is the costly part of writing, so it runs over the pool too."""
    bulletin = parsing.spooled_bulletin(claim)
    return bulletin, tuple(section_fields(section.title, section.paragraphs) for section in bulletin.sections)


def claim_files(entries, spool):
    """Claims and errors of the files `entries` (os.DirEntry), each parsed within
    BULLETINS_PARSE_SECONDS (parsing.py; 0: in this process, without a limit) and kept in the
    folder `spool` until it is written (None: a check, which writes nothing)."""
    claims, errors, jobs = [], [], []
    for number, entry in enumerate(entries):
        error = refusal(entry.path, entry.name)
        if error:
            errors.append(error)
        else:
            spooled = spool and os.path.join(spool, f"{number}.pickle")
            jobs.append((entry.path, entry.name, settings.BULLETINS_MAX_BLOCKS, spooled))
    seconds = settings.BULLETINS_PARSE_SECONDS
    if seconds:
        results = parsing.bounded(parsing.claim, jobs, seconds, settings.BULLETINS_LOAD_PROCESSES)
    else:
        results = (parsing.claim(*job) for job in jobs)
    for done, result in enumerate(results, start=1):
        (errors if isinstance(result, content.ContentError) else claims).append(result)
        progress.step("parsed", done, len(jobs))
    return claims, errors


@contextmanager
def worker_pool(files):
    """A map for parsing: over BULLETINS_LOAD_PROCESSES processes (one per core by default) for
    a large load, else the built-in.

    The workers are forked only from a process with no other thread: fork copies just the
    calling thread, and another may hold a lock that the copy would wait on for ever. A
    server's background load therefore stays in its thread. They are all forked at the pool's
    first map, before the search index's writer starts its threads.
    """
    processes = settings.BULLETINS_LOAD_PROCESSES
    if files < POOL_MIN_FILES or processes < 2 or threading.active_count() > 1:
        yield map
        return
    import multiprocessing  # here, not above: a start with nothing to load need not import it
    from concurrent.futures import ProcessPoolExecutor

    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(processes, mp_context=context, initializer=parsing.die_with_parent, initargs=(os.getpid(),)) as pool:
        yield functools.partial(pool.map, chunksize=32)


def claim_slugs(bulletins, owners):
    """Keep one bulletin (or Claim) per slug: the file already publishing it, else the first by name."""
    kept, errors, claimed = [], [], dict(owners)
    for bulletin in sorted(bulletins, key=lambda b: (claimed.get(b.slug) != b.path, b.path)):
        owner = claimed.setdefault(bulletin.slug, bulletin.path)
        if owner == bulletin.path:
            kept.append(bulletin)
        else:
            errors.append(content.ContentError(bulletin.path, bulletin.slug_line, f"slug {bulletin.slug!r} is already used by {owner}"))
    return sorted(kept, key=lambda b: b.path), errors


def decide_slugs(claims, published, staying):
    """(kept claims, refusals): claim_slugs() against what will be published, before anything is
    written. The articles that stay as they are (`staying`: unchanged files, refused ones) hold
    their slugs, and so does each published file that a slug conflict refuses, its last good
    version staying published: a new file that takes the slug it still holds is refused too,
    as long as refusals lead to others."""
    while True:
        owners = {a.slug: name for name, a in published.items() if name in staying}
        kept, refused = claim_slugs(claims, owners)
        newly = {error.path for error in refused if error.path in published} - staying
        if not newly:
            return kept, refused
        staying |= newly


def check_content(directory):
    """Every problem of the files in `directory`, without touching the database."""
    claims, errors = claim_files(content_files(directory), spool=None)
    _, duplicates = claim_slugs(claims, {})
    return sorted(errors + duplicates, key=lambda e: (e.path, e.line))


@dataclass
class Published:
    id: int
    slug: str
    source_hash: str
    source_stat: str


def content_directory(directory=None):
    directory = Path(directory or settings.BULLETINS_CONTENT_DIR)
    if not directory.is_dir():
        # A wrong path must not read as "every file was removed" and unpublish the site.
        raise ImproperlyConfigured(f"The content directory {directory} does not exist; nothing was changed.")
    return directory


def load_content(directory=None):
    """Bring the database in line with `directory`; return what was done."""
    try:
        report = load_once(content_directory(directory))
        record_outcome(f"ok: {report}", [str(error) for error in report.refused])
        return report
    except Exception as error:
        record_outcome(f"failed, nothing was changed: {error}"[:400])
        raise


def record_outcome(outcome, refused=None):
    """Note how the last load ended, for /healthz: outside the load's transaction, which a
    failure rolls back. Where nothing is published yet, there is nowhere to note it."""
    # To the microsecond: a rolling reload tells a new load from the one before by this line.
    fields = {"last_load": f"{timezone.now().isoformat(timespec='microseconds')} {outcome}"}
    if refused is not None:
        fields["refused"] = refused
    try:
        ContentState.objects.filter(pk=1).update(**fields)
    except DatabaseError:
        logger.exception("could not note the load's outcome")


def load_once(directory):
    """One load, in one transaction, holding in memory a Claim per changed file and one batch.

    The slugs are decided from every changed file's Claim before anything is written, then the
    bulletins parsed for the claims are written SAVE_BATCH at a time, and indexed in a new
    version of the search index that the same transaction publishes; if it fails, that version
    is removed.
    """
    report, builds = LoadReport(), []
    try:
        with transaction.atomic(), ExitStack() as stack:
            load_into(directory, report, stack, builds)
    except BaseException:
        for build in builds:
            build.discard()
        raise
    for build in builds:
        index.remove_old_versions(build.name, build.previous)
    if builds:
        checkpoint()
    log_report(report)
    return report


def checkpoint():
    """Write a load's pages into the database file itself and empty the write-ahead log: what a
    load published then lives in the one file, not also in a log that another process (one that
    held the database before it was replaced) might remove by name."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except DatabaseError:
        logger.exception("could not checkpoint the database after a load")


def load_into(directory, report, stack, builds):
    """The body of load_once's transaction, phase by phase; the index version it builds is added
    to `builds`."""
    rows = Article.objects.values_list("source_path", "id", "slug", "source_hash", "source_stat")
    published = {path: Published(*row) for path, *row in rows}
    files = content_files(directory)
    if not files and published and not settings.BULLETINS_ALLOW_EMPTY:
        # An emptied or unmounted folder must not read as "every bulletin was removed".
        raise ImproperlyConfigured(f"{directory} holds no bulletin; nothing was changed (BULLETINS_ALLOW_EMPTY=1 unpublishes all)")
    removed = unpublish_removed(published, files, report)
    changed, stats = changed_files(files, published, report)
    pool = stack.enter_context(worker_pool(len(changed)))
    spool = stack.enter_context(spool_folder())
    claims, report.refused = claim_files(changed, spool)
    claims, duplicates = decide_slugs(claims, published, {*report.unchanged, *(error.path for error in report.refused)})
    report.refused += duplicates
    free_rewritten_slugs(claims, published)

    state = ContentState.current()
    previous = state.index_version if state else ""
    # Only new bulletins are added in place: a replaced or removed one is built afresh (index.py).
    rebuild = not index.usable(previous) or removed or any(claim.path in published for claim in claims)
    build = None
    if rebuild or claims:
        build = index.Build(previous, fresh=rebuild)
        builds.append(build)
    write_claimed(claims, published, stats, pool, report, None if rebuild else build)
    if rebuild:
        total = Article.objects.count()
        articles = Article.objects.order_by("pk").prefetch_related("sections").iterator(chunk_size=SAVE_BATCH)
        for done, article in enumerate(articles, start=1):
            build.add(article, article.sections.all())
            progress.step("indexed", done, total)
    if build is not None:
        build.commit()
    if build is not None or state is None or state.rendering != pages.rendering():
        report.rendered = pages.refresh_pages()
        update_state(build.name if build is not None else previous)


def spool_folder():
    """A folder for a load's parsed files, beside the search index (in the data folder), not in
    /tmp, which may be memory: they wait there so that memory holds one batch of them. The
    folders of loads whose process is gone (killed mid-load) are removed first."""
    parent = Path(settings.BULLETINS_INDEX_DIR).parent
    parent.mkdir(parents=True, exist_ok=True)
    for folder in parent.glob("load-*-*"):
        pid = folder.name.split("-")[1]
        if pid.isdigit() and not alive(int(pid)):
            shutil.rmtree(folder, ignore_errors=True)
    return tempfile.TemporaryDirectory(prefix=f"load-{os.getpid()}-", dir=parent)


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError):
        return True  # another user's, or not a pid: not ours to remove
    return True


def unpublish_removed(published, files, report):
    """Delete the articles whose files are gone (from `published` too); whether there were any."""
    gone = sorted(set(published) - {entry.name for entry in files})
    for name in gone:
        Article.objects.filter(pk=published.pop(name).id).delete()
        report.removed.append(name)
    return bool(gone)


def changed_files(files, published, report):
    """(the files to parse, each file's stat): a file whose stat or digest is as published is
    unchanged; one only touched keeps its article and gets its new stat."""
    changed, stats = [], {}
    for entry in files:
        article = published.get(entry.name)
        try:
            stats[entry.name] = file_stat(entry)
            if article is not None and article.source_stat == stats[entry.name]:
                report.unchanged.append(entry.name)
                continue
            if article is not None and article.source_hash == content.digest(read(entry)):
                # Touched, not changed: remember the new stat, so the next start need not read it.
                Article.objects.filter(pk=article.id).update(source_stat=stats[entry.name])
                report.unchanged.append(entry.name)
                continue
        except OSError:
            pass  # claim_files refuses it, naming why
        changed.append(entry)
    return changed, stats


def free_rewritten_slugs(claims, published):
    """Free the slugs of the articles this load rewrites, so two files may swap slugs."""
    for claim in claims:
        if claim.path in published:
            article_id = published[claim.path].id
            Article.objects.filter(pk=article_id).update(slug=f"~{article_id}")


def write_claimed(claims, published, stats, pool, report, build):
    """Segment the claimed bulletins, SAVE_BATCH at a time, and write them; each batch's
    documents go to `build` where the index is updated in place (None: built afresh)."""
    for start in range(0, len(claims), SAVE_BATCH):
        batch = claims[start : start + SAVE_BATCH]
        written = list(pool(segmented, batch))
        bulletins, search_fields = [b for b, _ in written], [s for _, s in written]
        saved = save_bulletins(bulletins, {b.path: published[b.path].id for b in bulletins if b.path in published}, stats, search_fields)
        if build is not None:
            for article, sections in saved:
                build.add(article, sections)
        report.loaded += [claim.path for claim in batch]
        progress.step("written", len(report.loaded), len(claims))


def save_bulletins(bulletins, ids, stats, search_fields):
    """Write bulletins with their sections, in a few statements for the lot; return [(article, sections)].

    `ids` maps the path of each bulletin already published to its article's id, which it keeps
    (and with it its stored page, until the page is rendered again); `search_fields`, each
    bulletin's sections' section_fields().
    """
    now = timezone.now()
    articles = [
        Article(
            id=ids.get(bulletin.path),
            source_path=bulletin.path,
            source_hash=bulletin.digest,
            source_stat=stats.get(bulletin.path, ""),
            loaded_at=now,
            title_html=str(typeset.breaks(bulletin.title)),
            **{name: getattr(bulletin, name) for name in ARTICLE_FIELDS},
        )
        for bulletin in bulletins
    ]
    rewritten = [article for article in articles if article.id is not None]
    Article.objects.bulk_create([article for article in articles if article.id is None])
    if rewritten:
        Article.objects.bulk_update(rewritten, [f.name for f in Article._meta.concrete_fields if not f.primary_key])
        Section.objects.filter(article__in=rewritten).delete()
    sections = Section.objects.bulk_create(
        Section(
            article=article,
            position=position,
            text="\n".join(section.paragraphs),
            first=first,
            singles=singles,
            streams=streams,
            **{name: getattr(section, name) for name in SECTION_FIELDS},
        )
        for article, bulletin, fields in zip(articles, bulletins, search_fields, strict=True)
        for position, (section, first, (singles, streams)) in enumerate(
            zip(bulletin.sections, first_numbers(bulletin.sections), fields, strict=True), start=1
        )
    )
    by_article = {article.pk: [] for article in articles}
    for section in sections:
        by_article[section.article.pk].append(section)
    return [(article, by_article[article.pk]) for article in articles]


def first_numbers(sections):
    """The number of each section's first block in the bulletin, from 1: how its page counts paragraphs."""
    return itertools.accumulate((len(section.paragraphs) for section in sections[:-1]), initial=1)


def update_state(index_version):
    hashes = Article.objects.order_by("source_path").values_list("source_path", "source_hash")
    version = hashlib.sha256("\n".join(f"{path} {digest}" for path, digest in hashes).encode()).hexdigest()
    ContentState.objects.update_or_create(
        pk=1,
        defaults={
            "version": version,
            "article_count": len(hashes),
            "rendering": pages.rendering(),
            "index_version": index_version,
            "last_modified": Article.objects.last_modified(),
            "updated_at": timezone.now(),
        },
    )


def log_report(report, names=20):
    """The counts, then the files by name: all those refused, the first `names` of the others.
    A name's control characters are written escaped: a newline in one forges no log line."""
    logger.info("content load: %s", report)
    for verb, files in (("loaded", report.loaded), ("removed", report.removed)):
        for name in files[:names]:
            logger.info("%s %s", verb, escaped(name))
        if len(files) > names:
            logger.info("%s %d more", verb, len(files) - names)
    for error in report.refused:
        logger.error("refused %s", escaped(str(error)))


def escaped(text):
    """`text` with control and direction characters written as escapes (\\n, \\u202e)."""
    return LOG_UNSAFE.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), text)

"""Publish what is in `content/`: parse changed files and write them to the database at once.

A load is one transaction, so a reader sees the old content or the new, never half of it.
A file that fails to parse is refused with its line, and its last good version stays published.
"""

import fcntl
import hashlib
import logging
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.db import transaction
from django.utils import timezone

from . import content, search
from .models import Article, ContentState, Section

logger = logging.getLogger(__name__)


@dataclass
class LoadReport:
    loaded: list = field(default_factory=list)
    unchanged: list = field(default_factory=list)
    removed: list = field(default_factory=list)
    refused: list = field(default_factory=list)  # ContentError, one per refused file

    def __str__(self):
        return (
            f"loaded {len(self.loaded)}, unchanged {len(self.unchanged)}, "
            f"removed {len(self.removed)}, refused {len(self.refused)}"
        )


def content_files(directory):
    return sorted(Path(directory).glob("*.md"))


def read_bulletins(directory, skip=None):
    """Parse every file of `directory`, except those `skip(name, digest)` says are unchanged.

    Returns the parsed bulletins, the names skipped and the errors, duplicate slugs included.
    """
    bulletins, skipped, errors = [], [], []
    for path in content_files(directory):
        data = path.read_bytes()
        if skip and skip(path.name, content.digest(data)):
            skipped.append(path.name)
            continue
        try:
            bulletins.append(content.parse_bulletin(path.name, data))
        except content.ContentError as error:
            errors.append(error)
    return bulletins, skipped, errors


def claim_slugs(bulletins, owners):
    """Keep one bulletin per slug: the file already publishing it, else the first by name."""
    kept, errors, claimed = [], [], dict(owners)
    for bulletin in sorted(bulletins, key=lambda b: (claimed.get(b.slug) != b.path, b.path)):
        owner = claimed.setdefault(bulletin.slug, bulletin.path)
        if owner == bulletin.path:
            kept.append(bulletin)
        else:
            errors.append(content.ContentError(bulletin.path, bulletin.slug_line, f"slug {bulletin.slug!r} is already used by {owner}"))
    return sorted(kept, key=lambda b: b.path), errors


def check_content(directory):
    """Every problem of the files in `directory`, without touching the database."""
    bulletins, _, errors = read_bulletins(directory)
    _, duplicates = claim_slugs(bulletins, {})
    return sorted(errors + duplicates, key=lambda e: (e.path, e.line))


def load_content(directory=None):
    """Bring the database in line with `directory`; return what was done."""
    directory = Path(directory or settings.BULLETINS_CONTENT_DIR)
    if not directory.is_dir():
        # A wrong path must not read as "every file was removed" and unpublish the site.
        raise ImproperlyConfigured(f"The content directory {directory} does not exist; nothing was changed.")
    report = LoadReport()
    with transaction.atomic():
        published = {a.source_path: a for a in Article.objects.only("id", "slug", "source_path", "source_hash")}
        present = {path.name for path in content_files(directory)}
        for name in sorted(set(published) - present):
            published.pop(name).delete()
            report.removed.append(name)

        def unchanged(name, digest):
            article = published.get(name)
            return article is not None and article.source_hash == digest

        bulletins, report.unchanged, report.refused = read_bulletins(directory, skip=unchanged)
        refused_paths = {error.path for error in report.refused}
        # Slugs held by articles that stay as they are: unchanged files and refused ones.
        owners = {a.slug: name for name, a in published.items() if name in report.unchanged or name in refused_paths}
        bulletins, duplicates = claim_slugs(bulletins, owners)
        report.refused += duplicates

        # Free the slugs of the articles this load rewrites, so two files may swap slugs.
        for bulletin in bulletins:
            if bulletin.path in published:
                Article.objects.filter(pk=published[bulletin.path].pk).update(slug=f"~{published[bulletin.path].pk}")
        for bulletin in bulletins:
            save_bulletin(bulletin, published.get(bulletin.path))
            report.loaded.append(bulletin.path)
        if report.loaded or report.removed or ContentState.current() is None:
            update_state()
    log_report(report)
    return report


def save_bulletin(bulletin, article):
    article = article or Article(source_path=bulletin.path)
    article.slug = bulletin.slug
    article.source_hash = bulletin.digest
    article.title = bulletin.title
    article.region = bulletin.region
    article.source = bulletin.source
    article.byline = bulletin.byline
    article.date = bulletin.date
    article.order = bulletin.order
    article.summary = bulletin.summary
    article.loaded_at = timezone.now()
    article.save()
    article.sections.all().delete()
    sections = Section.objects.bulk_create(
        Section(
            article=article,
            position=position,
            anchor=section.anchor,
            title=section.title,
            level=section.level,
            html=section.html,
            text="\n".join(section.paragraphs),
        )
        for position, section in enumerate(bulletin.sections, start=1)
    )
    search.index_sections(article, sections)
    return article


def update_state():
    hashes = Article.objects.order_by("source_path").values_list("source_path", "source_hash")
    version = hashlib.sha256("\n".join(f"{path} {digest}" for path, digest in hashes).encode()).hexdigest()
    ContentState.objects.update_or_create(
        pk=1, defaults={"version": version, "article_count": len(hashes), "updated_at": timezone.now()}
    )


def log_report(report):
    logger.info("content load: %s", report)
    for name in report.loaded:
        logger.info("loaded %s", name)
    for name in report.removed:
        logger.info("removed %s", name)
    for error in report.refused:
        logger.error("refused %s", error)


@contextmanager
def exclusive_lock():
    """One process at a time sets up the database, however many workers start together."""
    path = Path(settings.DATABASES["default"]["NAME"]).with_suffix(".lock")
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def load_at_startup():
    """Migrate and load before serving. Called from wsgi.py, not AppConfig.ready(), as Django advises."""
    with exclusive_lock():
        call_command("migrate", interactive=False, verbosity=0)
        return load_content()

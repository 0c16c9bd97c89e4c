"""Start-up: the database made usable and content/ published before a process serves, then
checked again in the background; one process at a time, however many start together.

wsgi.py calls publish_at_start(). Under gunicorn, whose master forks the workers
(gunicorn.conf.py calls forked_workers()), the master starts no thread and keeps no
connection: a first load runs in a child process, and each worker checks content/ after the
fork (check_in_background).
"""

import fcntl
import logging
import os
import threading
from contextlib import contextmanager
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import DatabaseError, connection, connections
from django.utils import timezone

logger = logging.getLogger(__name__)
_forked_workers = False


def forked_workers():
    """Called by gunicorn.conf.py in the master, before the app is imported: the workers,
    forked later, check content/ (check_in_background); this process starts no thread."""
    global _forked_workers
    _forked_workers = True


@contextmanager
def exclusive_lock():
    """One process at a time sets up the database and loads, however many workers start together.

    A process that finds the lock taken says so, and waits. The lock dies with the process that
    holds it (and with its pool's workers, see parsing.die_with_parent).
    """
    path = Path(settings.DATABASES["default"]["NAME"]).with_suffix(".lock")
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            logger.info("waiting for %s: another process is loading content", path)
            fcntl.flock(handle, fcntl.LOCK_EX)
            logger.info("%s is free: loading", path)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def migrations_pending():
    """Whether a migration file is not applied yet, from the files' names and the migration table.

    Django's MigrationLoader imports every migration to know: a cost paid at every start, where
    a start with nothing to migrate only needs to compare names.
    """
    on_disk = {(app.label, path.stem) for app in apps.get_app_configs() for path in Path(app.path, "migrations").glob("[0-9]*.py")}
    if not on_disk:
        return False
    if "django_migrations" not in connection.introspection.table_names():
        return True
    with connection.cursor() as cursor:
        cursor.execute("SELECT app, name FROM django_migrations")
        return not on_disk <= set(cursor.fetchall())


def migrate_and_load():
    """What `manage.py loadbulletins` does: make the database usable, then load, before returning."""
    from .loader import load_content

    with exclusive_lock():
        prepare_database()
        return load_content()


def prepare_database():
    """The database is a cache of content/: one that cannot be read is set aside, and one that
    lacks tables (new, or deleted under a running site) is migrated, so a load rebuilds it.

    One that cannot be migrated is set aside too: a write-ahead log removed under the running
    site can leave tables that no migration records, on which migrate() fails every time."""
    error = unreadable_database()
    if error is not None:
        set_aside_database(f"cannot be read ({error})")
    if migrations_pending():
        try:
            call_command("migrate", interactive=False, verbosity=0)
        except DatabaseError as error:
            set_aside_database(f"cannot be migrated ({error})")
            call_command("migrate", interactive=False, verbosity=0)


def unreadable_database():
    """The error that reading the database raises, or None: its schema, and, once migrated,
    every column of every model (a file replaced under the running site can lose some)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM sqlite_master")
            if "django_migrations" not in connection.introspection.table_names(cursor) or migrations_pending():
                return None  # new, or not migrated yet: migrate() makes it whole
            for model in apps.get_app_config("bulletins").get_models():
                columns = ", ".join(connection.ops.quote_name(f.column) for f in model._meta.concrete_fields)
                cursor.execute(f"SELECT {columns} FROM {connection.ops.quote_name(model._meta.db_table)} LIMIT 1")
        return None
    except DatabaseError as error:
        return error


def set_aside_database(reason):
    """Move the database's files aside (name.broken-<time>), to be looked at, and start anew."""
    connections.close_all()
    path = Path(settings.DATABASES["default"]["NAME"])
    stamp = timezone.now().strftime("%Y%m%d%H%M%S")
    for suffix in ("", "-wal", "-shm"):
        source = path.with_name(path.name + suffix)
        if source.exists():
            source.rename(path.with_name(f"{path.name}.broken-{stamp}{suffix}"))
    logger.error("the database %s %s: moved aside as %s.broken-%s; rebuilding it from content/", path, reason, path.name, stamp)


def publish_at_start():
    """Called from wsgi.py, not AppConfig.ready(), as Django advises; returns the thread, the
    report, True (a first load in a child process) or None.

    A database that already publishes content is served from the first request on: a restart
    does not wait for every file of the archive to be checked, nor for another worker's check,
    but checks in a thread of its own. A fresh database is loaded first.

    In gunicorn's master (forked_workers()), the first load runs in a child process, as the
    search index's writer starts threads that the workers forked later would lack.
    """
    from .loader import content_directory
    from .models import ContentState

    report = None
    if unreadable_database() is not None or migrations_pending() or ContentState.current() is None:
        # Under the lock, which makes the other workers wait for it.
        report = in_a_child_process(migrate_and_load) if _forked_workers else migrate_and_load()
    else:
        content_directory()  # a wrong setting still stops the start, not just a thread
        if not _forked_workers:
            return check_in_background()
    if _forked_workers:
        connections.close_all()  # a forked worker must open its own
    return report


def in_a_child_process(function):
    """Run `function` in a forked child and wait for it; True, or raise if it failed (it logs why)."""
    connections.close_all()  # the child opens its own
    pid = os.fork()
    if pid == 0:
        code = 1
        try:
            function()
            code = 0
        except BaseException:
            logger.exception("the first content load failed")
        finally:
            logging.shutdown()
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError("The first content load failed (see the log above); nothing is served.")
    return True


def check_in_background():
    thread = threading.Thread(target=load_in_background, name="bulletins-load", daemon=True)
    thread.start()
    return thread


_repair = threading.Lock()


def repair_in_background():
    """A request met a database error: check (and if need be rebuild) the database and content/
    in a thread, one at a time in this process."""
    if not _repair.acquire(blocking=False):
        return

    def repair():
        try:
            load_in_background()
        finally:
            _repair.release()

    threading.Thread(target=repair, name="bulletins-repair", daemon=True).start()


def load_in_background():
    """Check content/ once the lock is free. Workers that start together check one after the
    other, each a stat per file when another has just loaded; a worker forked by a reload while
    a retiring one loads (a second HUP) checks once that one is done or gone, so no change is
    left unpublished."""
    from .loader import load_content

    try:
        with exclusive_lock():
            prepare_database()
            load_content()
    except Exception:
        logger.exception("content load failed; serving what was published before")
    finally:
        connections.close_all()  # this thread's own

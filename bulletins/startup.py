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

from django.conf import settings
from django.db import connections

from .repair import migrations_pending, prepare_database, unreadable_database

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


def migrate_and_load():
    """What `manage.py loadbulletins` does: make the database usable, then load, before returning."""
    from .loader import load_content

    with exclusive_lock():
        prepare_database()
        return load_content()


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

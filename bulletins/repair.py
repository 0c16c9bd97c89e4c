"""The database is a cache of content/: one that cannot be read, or cannot be migrated, is set
aside (name.broken-<time>, to be looked at) and built anew, and one that lacks tables is
migrated, so that the next load rebuilds it. startup.py decides when; this module, how."""

import logging
from pathlib import Path

from django.apps import apps
from django.conf import settings
from django.core.management import call_command
from django.db import DatabaseError, connection, connections
from django.utils import timezone

logger = logging.getLogger(__name__)


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

"""System checks for the misconfigurations that would otherwise surface as an empty site."""

from django.conf import settings
from django.core.checks import Error, Tags, register
from django.db import OperationalError, connections


@register()
def content_directory_exists(app_configs, **kwargs):
    directory = settings.BULLETINS_CONTENT_DIR
    if not directory.is_dir():
        return [
            Error(
                f"BULLETINS_CONTENT_DIR {directory} is not a directory.",
                hint="Point BULLETINS_CONTENT_DIR at the folder of Markdown bulletins.",
                id="bulletins.E001",
            )
        ]
    return []


@register(Tags.database)
def search_index_backend(app_configs, databases=None, **kwargs):
    """Search is SQLite FTS5 for now; another database needs its own index first."""
    errors = []
    for alias in databases or []:
        connection = connections[alias]
        if connection.vendor != "sqlite":
            errors.append(
                Error(
                    f"Search needs SQLite FTS5, but database {alias!r} is {connection.vendor}.",
                    hint="Use SQLite, or add a search index for this database to bulletins/search.py.",
                    id="bulletins.E002",
                )
            )
            continue
        try:
            with connection.cursor() as cursor:
                cursor.execute("CREATE VIRTUAL TABLE temp.fts5_probe USING fts5(x)")
                cursor.execute("DROP TABLE temp.fts5_probe")
        except OperationalError:
            errors.append(Error("This SQLite is built without FTS5, which search needs.", id="bulletins.E003"))
    return errors

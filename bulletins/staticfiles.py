"""Static files' storage: whitenoise's hashed, compressed names once collectstatic has run."""

from whitenoise.storage import CompressedManifestStaticFilesStorage


class StaticFilesStorage(CompressedManifestStaticFilesStorage):
    """Before collectstatic has run (a fresh clone's `manage.py loadbulletins` or `runserver`),
    a file has no hashed name yet: its plain name is used rather than failing the command.
    collectstatic changes the release (pages.release), so the next load renders those pages
    again with the hashed names."""

    def stored_name(self, name):
        try:
            return super().stored_name(name)
        except ValueError:  # not collected yet
            return name

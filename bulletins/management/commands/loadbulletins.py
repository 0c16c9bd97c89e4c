import contextlib
import sys

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from bulletins import progress
from bulletins.loader import check_content
from bulletins.startup import migrate_and_load


class Command(BaseCommand):
    help = "Publish the Markdown bulletins of BULLETINS_CONTENT_DIR, as every start of the site does, and wait for it."

    def add_arguments(self, parser):
        parser.add_argument(
            "--check",
            action="store_true",
            help="Only validate the files: list every problem and exit non-zero if there is one.",
        )

    def handle(self, *args, check=False, **options):
        if check:
            problems = check_content(settings.BULLETINS_CONTENT_DIR)
            if problems:
                raise CommandError("\n".join(str(p) for p in problems) + f"\n{len(problems)} problem(s) found.")
            self.stdout.write(self.style.SUCCESS("All bulletins are valid."))
            return
        # On a terminal, a bar per phase (parsed, written, indexed, pages checked); elsewhere a
        # log line per batch of a long load.
        with progress.bars(sys.stderr) if sys.stderr.isatty() else contextlib.nullcontext():
            report = migrate_and_load()
        self.stdout.write(str(report))
        if report.refused:
            raise CommandError("\n".join(str(error) for error in report.refused))

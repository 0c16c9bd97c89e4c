"""What an operator may set: each environment variable once, with its default and a line of help.

settings.py reads the values from here, and the README's settings table is this declaration
written out (`python -m bulletins.conf`; tests/test_project.py fails when the two differ).
Defaults work on a laptop: `make run` serves production settings on loopback with no set-up.
"""

import os
from dataclasses import dataclass
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
TRUE = {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Option:
    variable: str
    kind: type  # bool, int, str, Path or list (comma-separated)
    default: object  # the value, or a function of the values declared before it
    shown: str  # the default as the README shows it
    help: str
    minimum: int | None = None

    def parse(self, text):
        if self.kind is bool:
            return text.strip().lower() in TRUE
        if self.kind is list:
            return [item.strip() for item in text.split(",") if item.strip()]
        if self.kind is int:
            try:
                value = int(text)
            except ValueError:
                raise ValueError(f"{self.variable} must be a whole number, not {text!r}") from None
            return value if self.minimum is None else max(self.minimum, value)
        return self.kind(text)


OPTIONS = (
    Option("DJANGO_DEBUG", bool, False, "off", "Django's debug mode; never on in production"),
    Option(
        "DJANGO_ALLOWED_HOSTS", list, ["localhost", "127.0.0.1", "[::1]"], "`localhost,127.0.0.1,[::1]`", "host names the site answers to"
    ),
    Option("DJANGO_SECRET_KEY", str, "", "fixed loopback key", "required once `DJANGO_DEBUG` is off and a non-loopback host is allowed"),
    Option(
        "DJANGO_HTTPS",
        bool,
        False,
        "off",
        "behind TLS: secure redirect, HSTS, trusted `X-Forwarded-Proto` (never trusted without it, by Django or gunicorn)",
    ),
    Option("BULLETINS_CONTENT_DIR", Path, BASE_DIR / "content", "`content/`", "the Markdown bulletins to publish"),
    Option(
        "BULLETINS_DATA_DIR",
        Path,
        BASE_DIR / "var",
        "`var/`",
        "where the SQLite database and, beside it, the search index (`bulletins.index/`) live",
    ),
    Option(
        "BULLETINS_DB_PATH",
        Path,
        lambda values: values["BULLETINS_DATA_DIR"] / "bulletins.sqlite3",
        "`var/bulletins.sqlite3`",
        "the database file itself",
    ),
    Option(
        "BULLETINS_INDEX_DIR",
        Path,
        lambda values: values["BULLETINS_DB_PATH"].with_suffix(".index"),
        "the database's path with `.index`",
        "the search index's version folders",
    ),
    Option(
        "BULLETINS_INDEX_KEEP",
        int,
        2,
        "`2`",
        "index versions kept on disk: the published one, the one before (workers may still hold it), and newer others",
        minimum=2,
    ),
    Option(
        "BULLETINS_SITE_URL",
        str,
        "",
        "empty",
        "the public address (`https://…`, no trailing slash) for canonical links, `og:url`, and every absolute URL of the API, "
        "feeds, sitemap and robots.txt; without it canonical links are paths, pages carry no `og:url`, absolute URLs follow "
        "the request's host, and validators differ per host",
    ),
    Option(
        "BULLETINS_WARM_START",
        bool,
        False,
        "off (on for the replicas of `make run` and `make cluster`)",
        "load jieba's dictionary in gunicorn's master before it listens, at every start; off, a restart answers pages sooner "
        "and each worker loads it at its first search",
    ),
    Option(
        "BULLETINS_LOAD_PROCESSES",
        int,
        os.cpu_count() or 1,
        "one per core",
        "processes that parse and segment a load of 200 files or more",
        minimum=1,
    ),
    Option(
        "BULLETINS_MAX_FILE_BYTES",
        int,
        2 * 2**20,
        "`2097152` (2 MiB)",
        "a bulletin file larger than this is refused with its name",
    ),
    Option(
        "BULLETINS_MAX_BLOCKS",
        int,
        5000,
        "`5000`",
        "a bulletin of more paragraphs and headings is refused at the line of the first too many",
    ),
    Option(
        "BULLETINS_PARSE_SECONDS",
        int,
        10,
        "`10`",
        "a bulletin whose parse takes longer is refused (a real one of 2 MiB takes half a second); `0` parses in the "
        "loading process, without a limit",
        minimum=0,
    ),
    Option(
        "BULLETINS_SEARCH_BUDGET_MS",
        int,
        2000,
        "`2000`",
        "a search that took more work than this answers 503, asking for a narrower query",
    ),
    Option(
        "BULLETINS_ALLOW_EMPTY",
        bool,
        False,
        "off",
        "an empty `content/` is refused (nothing changes); on, it unpublishes every bulletin",
    ),
    Option("BULLETINS_PAGE_MAX_AGE", int, 300, "`300`", "seconds browsers may keep a page before revalidating it", minimum=0),
    Option(
        "BULLETINS_SHARED_MAX_AGE",
        int,
        lambda values: values["BULLETINS_PAGE_MAX_AGE"],
        "`BULLETINS_PAGE_MAX_AGE`",
        "seconds a CDN or other shared cache may keep a page (`s-maxage`); it may also answer stale for 60 s while it "
        "revalidates and for a day while no replica answers",
        minimum=0,
    ),
    Option(
        "BULLETINS_FRONT_CACHE_SECONDS",
        int,
        1,
        "`1`",
        "seconds nginx (`make run`, `make cluster`) keeps a page before it asks a replica whether it changed; `0` keeps nothing",
        minimum=0,
    ),
    Option("BULLETINS_STATIC_ROOT", Path, BASE_DIR / "staticfiles", "`staticfiles/`", "where `collectstatic` gathers the static files"),
)


def read(environ=os.environ):
    """{variable: value}: each from the environment where it is set and not empty, else its default."""
    values = {}
    for option in OPTIONS:
        text = environ.get(option.variable, "")
        if text != "":
            values[option.variable] = option.parse(text)
        else:
            values[option.variable] = option.default(values) if callable(option.default) else option.default
    return values


def table():
    """The README's settings table, in Markdown."""
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    rows += [f"| `{option.variable}` | {option.shown} | {option.help} |" for option in OPTIONS]
    return "\n".join(rows) + "\n"


if __name__ == "__main__":
    print(table(), end="")

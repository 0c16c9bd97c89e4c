"""Settings for the bulletins site.

Everything an operator may change comes from an environment variable, with a default that
works on a laptop: `make run` serves production settings on loopback with no set-up.
"""

import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_flag(name, default=False):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


def env_list(name, default):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_flag("DJANGO_DEBUG")
HTTPS = env_flag("DJANGO_HTTPS")

LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG and not set(ALLOWED_HOSTS) <= LOOPBACK_HOSTS:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off and the site answers "
            f"to hosts other than loopback (DJANGO_ALLOWED_HOSTS={','.join(ALLOWED_HOSTS)})."
        )
    # The site sets no cookies and signs nothing; a fixed key is harmless on loopback.
    SECRET_KEY = "insecure-loopback-only-key-0f3c9a7e5b1d4c2a8e6f"

INSTALLED_APPS = [
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    "bulletins",
]

MIDDLEWARE = [
    # Outermost first, so that every response, 405s and static files included, gets the headers.
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "bulletins.middleware.SecurityHeadersMiddleware",
    "bulletins.middleware.ReadOnlyMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "bulletins.middleware.ScriptPrefixMiddleware",
    "bulletins.middleware.StoredPageMiddleware",
    "bulletins.middleware.GZipMiddleware",
    "bulletins.middleware.TraditionalScriptMiddleware",
    "bulletins.middleware.ContentCachingMiddleware",
    "django.middleware.common.CommonMiddleware",
]

# The site answers GET and HEAD only (ReadOnlyMiddleware) and sets no cookie: there is no
# request to forge, so CSRF protection would be dead weight.
SILENCED_SYSTEM_CHECKS = ["security.W003"]

ROOT_URLCONF = "bulletins.urls"
WSGI_APPLICATION = "bulletins.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.jinja2.Jinja2",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": False,
        "OPTIONS": {"environment": "bulletins.jinja2.environment"},
    },
    {
        # Only for the templates Django's own apps ship (sitemap.xml); ours are Jinja2.
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
    },
]

DATA_DIR = Path(os.environ.get("BULLETINS_DATA_DIR", BASE_DIR / "var"))
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": Path(os.environ.get("BULLETINS_DB_PATH", DATA_DIR / "bulletins.sqlite3")),
        "OPTIONS": {
            # WAL lets readers go on reading while a load writes; IMMEDIATE makes concurrent
            # loaders queue for the write lock instead of failing half-way.
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
            "transaction_mode": "IMMEDIATE",
            "timeout": 30,
        },
        # One connection per worker for its life, not one per request: opening one costs more
        # than answering from a stored page.
        "CONN_MAX_AGE": None,
        "CONN_HEALTH_CHECKS": True,
        "TEST": {"NAME": os.environ.get("BULLETINS_TEST_DB_PATH") or None},
    }
}
# SQLite creates the file but not its folder; every command may be the first to connect.
DATABASES["default"]["NAME"].parent.mkdir(parents=True, exist_ok=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# A bulletin file larger than this is refused with its name: no bulletin comes near it.
BULLETINS_MAX_FILE_BYTES = int(os.environ.get("BULLETINS_MAX_FILE_BYTES") or 2 * 2**20)
# Likewise a bulletin of more paragraphs and headings than this, refused with the line of the first too many.
BULLETINS_MAX_BLOCKS = int(os.environ.get("BULLETINS_MAX_BLOCKS") or 5000)
# A search that takes longer than this (milliseconds of work) answers 503 with a clear message.
BULLETINS_SEARCH_BUDGET_MS = int(os.environ.get("BULLETINS_SEARCH_BUDGET_MS") or 2000)
# An empty content/ is refused, so that an unmounted folder does not unpublish the archive;
# set this to 1 to unpublish everything on purpose.
BULLETINS_ALLOW_EMPTY = env_flag("BULLETINS_ALLOW_EMPTY")
# The search index's versions: beside the database, of which it is a part (bulletins.search.index).
BULLETINS_INDEX_DIR = Path(os.environ.get("BULLETINS_INDEX_DIR") or DATABASES["default"]["NAME"].with_suffix(".index"))
# Index versions kept on disk: at least the published one and the one before it.
BULLETINS_INDEX_KEEP = max(2, int(os.environ.get("BULLETINS_INDEX_KEEP") or 2))
# Where the Markdown bulletins live; the loader publishes exactly what is here.
BULLETINS_CONTENT_DIR = Path(os.environ.get("BULLETINS_CONTENT_DIR", BASE_DIR / "content"))
# The public address, such as https://gongbao.example.cn, for canonical and Open Graph URLs.
# Pages are rendered once at load, not per request, so it cannot come from the Host header;
# without it, canonical links are paths and pages carry no og:url.
BULLETINS_SITE_URL = os.environ.get("BULLETINS_SITE_URL", "").rstrip("/")
# Processes a large load parses and segments in; 1 keeps every load in one process.
# Load jieba's dictionary in gunicorn's master before it listens, at every start (see
# gunicorn.conf.py); deploy/serve.py sets it for the replicas behind nginx.
BULLETINS_WARM_START = env_flag("BULLETINS_WARM_START")
BULLETINS_LOAD_PROCESSES = int(os.environ.get("BULLETINS_LOAD_PROCESSES") or os.cpu_count() or 1)
# Bulletins on one page of the home page's list.
BULLETINS_PER_PAGE = 50

LANGUAGE_CODE = "zh-hans"
TIME_ZONE = "Asia/Shanghai"
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = Path(os.environ.get("BULLETINS_STATIC_ROOT", BASE_DIR / "staticfiles"))
STORAGES = {
    "staticfiles": {"BACKEND": "bulletins.staticfiles.StaticFilesStorage"},
}
# Pages rendered by a load that ran before collectstatic link the unhashed names instead of
# failing (bulletins.staticfiles); collectstatic changes the release, and the next load
# renders them anew.
WHITENOISE_MANIFEST_STRICT = False
WHITENOISE_MAX_AGE = 3600  # unhashed names only; hashed ones are cached for a year, immutable
# How long browsers may keep a page before revalidating it (ETag, Last-Modified), and a CDN or
# other shared cache (s-maxage). A shared cache may also answer from a stale copy for a minute
# while it revalidates, and for a day while no replica answers.
PAGE_MAX_AGE = int(os.environ.get("BULLETINS_PAGE_MAX_AGE", "300"))
SHARED_MAX_AGE = int(os.environ.get("BULLETINS_SHARED_MAX_AGE") or PAGE_MAX_AGE)
PAGE_CACHE_CONTROL = f"public, max-age={PAGE_MAX_AGE}, s-maxage={SHARED_MAX_AGE}, stale-while-revalidate=60, stale-if-error=86400"

SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if HTTPS:
    SECURE_SSL_REDIRECT = True
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = 31536000
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"stdout": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stdout"}},
    "loggers": {
        "bulletins": {"handlers": ["stdout"], "level": "INFO", "propagate": False},
        "django": {"handlers": ["stdout"], "level": "WARNING", "propagate": False},
    },
}

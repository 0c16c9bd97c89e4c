"""Settings for the bulletins site.

What an operator may change is declared once, in bulletins.conf, each environment variable
with its default and its help; this file reads the values from there.
"""

from django.core.exceptions import ImproperlyConfigured

from . import conf

BASE_DIR = conf.BASE_DIR
try:
    ENV = conf.read()
except ValueError as error:
    raise ImproperlyConfigured(str(error)) from None

DEBUG = ENV["DJANGO_DEBUG"]
HTTPS = ENV["DJANGO_HTTPS"]

LOOPBACK_HOSTS = {"localhost", "127.0.0.1", "[::1]", "::1"}
ALLOWED_HOSTS = ENV["DJANGO_ALLOWED_HOSTS"]

SECRET_KEY = ENV["DJANGO_SECRET_KEY"]
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
    "bulletins.middleware.NotFoundCachingMiddleware",
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

DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": ENV["BULLETINS_DB_PATH"],
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
    }
}
# SQLite creates the file but not its folder; every command may be the first to connect.
DATABASES["default"]["NAME"].parent.mkdir(parents=True, exist_ok=True)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

BULLETINS_MAX_FILE_BYTES = ENV["BULLETINS_MAX_FILE_BYTES"]
BULLETINS_MAX_BLOCKS = ENV["BULLETINS_MAX_BLOCKS"]
BULLETINS_PARSE_SECONDS = ENV["BULLETINS_PARSE_SECONDS"]
BULLETINS_SEARCH_BUDGET_MS = ENV["BULLETINS_SEARCH_BUDGET_MS"]
BULLETINS_ALLOW_EMPTY = ENV["BULLETINS_ALLOW_EMPTY"]
BULLETINS_INDEX_DIR = ENV["BULLETINS_INDEX_DIR"]
BULLETINS_INDEX_KEEP = ENV["BULLETINS_INDEX_KEEP"]
BULLETINS_CONTENT_DIR = ENV["BULLETINS_CONTENT_DIR"]
# Pages are rendered once at load, not per request, so the public address cannot come from
# the Host header.
BULLETINS_SITE_URL = ENV["BULLETINS_SITE_URL"].rstrip("/")
BULLETINS_WARM_START = ENV["BULLETINS_WARM_START"]
BULLETINS_LOAD_PROCESSES = ENV["BULLETINS_LOAD_PROCESSES"]
# Bulletins on one page of the home page's list.
BULLETINS_PER_PAGE = 50

# The site's own words: the templates' are simplified, and the traditional edition (/zh-hant/,
# bulletins/traditional.py) takes them from its own catalogue, locale/zh_Hant, written for it.
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", "简体中文"), ("zh-hant", "繁體中文")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = ENV["BULLETINS_STATIC_ROOT"]
STORAGES = {
    "staticfiles": {"BACKEND": "bulletins.staticfiles.StaticFilesStorage"},
}
# Pages rendered by a load that ran before collectstatic link the unhashed names instead of
# failing (bulletins.staticfiles); collectstatic changes the release, and the next load
# renders them anew.
WHITENOISE_MANIFEST_STRICT = False
WHITENOISE_MAX_AGE = 3600  # unhashed names only; hashed ones are cached for a year, immutable
# A shared cache may also answer from a stale copy for a minute while it revalidates, and for
# a day while no replica answers.
PAGE_CACHE_CONTROL = (
    f"public, max-age={ENV['BULLETINS_PAGE_MAX_AGE']}, s-maxage={ENV['BULLETINS_SHARED_MAX_AGE']}, "
    "stale-while-revalidate=60, stale-if-error=86400"
)

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

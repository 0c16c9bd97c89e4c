"""WSGI entry point for gunicorn and runserver: content/ is published here (loader.load_at_startup)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bulletins.settings")

application = get_wsgi_application()

from bulletins.loader import load_at_startup  # noqa: E402  (needs the apps set up above)

startup = load_at_startup()  # the background check's thread, or the first load's report

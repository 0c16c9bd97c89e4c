"""WSGI entry point for gunicorn and runserver: content/ is published here (loader.load_at_startup)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bulletins.settings")

application = get_wsgi_application()

from bulletins.loader import load_at_startup  # noqa: E402  (needs the apps set up above)

# The background check's thread, or the first load's report; see gunicorn.conf.py for the flag.
startup = load_at_startup(check_here=not os.environ.get("BULLETINS_CHECK_AFTER_FORK"))

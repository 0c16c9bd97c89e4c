"""WSGI entry point for gunicorn and runserver: content/ is published here (loader.load_at_startup)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bulletins.settings")

application = get_wsgi_application()

from bulletins.loader import load_at_startup  # noqa: E402  (needs the apps set up above)

# The background check's thread, the first load's report (True when it ran in a child process:
# gunicorn's master), or None; see gunicorn.conf.py for the flag and what it does after a first load.
startup = load_at_startup(check_here=not os.environ.get("BULLETINS_CHECK_AFTER_FORK"))

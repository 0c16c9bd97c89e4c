"""WSGI entry point for gunicorn and runserver."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bulletins.settings")

application = get_wsgi_application()

# Publish content/ before serving (bulletins.startup): the first load, or a check in the background.
from bulletins.startup import publish_at_start  # noqa: E402  (needs the apps set up above)

startup = publish_at_start()

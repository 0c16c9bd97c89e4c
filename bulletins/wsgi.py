"""WSGI entry point for gunicorn and runserver: the content is loaded here, before serving."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bulletins.settings")

application = get_wsgi_application()

from bulletins.loader import load_at_startup  # noqa: E402  (needs the apps set up above)

load_at_startup()

from bulletins.search import tokenizer  # noqa: E402

tokenizer()  # jieba's dictionary, once per worker at start rather than on its first search

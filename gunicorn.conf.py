"""gunicorn's settings for this site, read from the working directory by `make run` and the tests.

The app is imported once, in the master, and the workers are forked from it: they share its
memory and answer from the moment they exist, however many start on how few cores. Each
worker then checks content/ in a thread of its own (one does the work; see
bulletins.startup). That is also how a graceful reload (HUP) publishes changed
content: its new workers are forked from the master, which does not import the app again, so
a change of code needs a restart.
"""

from bulletins import startup

preload_app = True
# The scheme comes from Django alone: SECURE_PROXY_SSL_HEADER trusts X-Forwarded-Proto under
# DJANGO_HTTPS only. gunicorn would otherwise honour it from any client on loopback.
secure_scheme_headers = {}

# The master loads the app but forks the workers: they check content/ after the fork, not it.
startup.forked_workers()


def on_starting(server):
    """Before the site listens, load the query side of search (jieba's, OpenCC's and pypinyin's dictionaries) in
    the master: the workers forked from it share it, and none makes its first readers wait a
    second for it, after a reload either. Done after a first load (a fresh start, slow anyway)
    and where BULLETINS_WARM_START is set, as deploy/run.py sets it: behind nginx, a replica
    that does not listen yet costs no reader anything. A bare restart leaves it to each
    worker's first search, so that pages answer at once. Neither starts a thread; the index is
    opened by each worker, after the fork, as tantivy starts threads."""
    from django.conf import settings

    from bulletins import wsgi

    if wsgi.startup or settings.BULLETINS_WARM_START:
        from bulletins.search import load_dictionaries

        load_dictionaries()


def post_worker_init(worker):
    startup.check_in_background()

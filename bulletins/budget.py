"""A search's budget: an answer that took more work than BULLETINS_SEARCH_BUDGET_MS is not
served (503, asking for a narrower query), and while the index is rebuilt a search answers
503 with Retry-After. For the search page (views.py) and the API (api.py) alike."""

import functools
import logging
import time

from django.conf import settings
from django.shortcuts import render

from . import pages, search, startup

logger = logging.getLogger(__name__)


TOO_SLOW = "这次搜索用时过长，没有完成：请换一个更具体的说法再试。"


REBUILDING = "搜索索引正在重建，请稍后再试。"


def unavailable(request, error):
    """503 for a search while the index is rebuilt: the repair starts in this process (a load
    that finds the published version missing or damaged builds it afresh from the database)."""
    logger.error("%s: rebuilding it", error)
    startup.repair_in_background()
    if pages.under_api(request.path):
        response = pages.json_error(503, REBUILDING)
    else:
        response = render(request, "search.html", {"q": request.GET.get("q", ""), "rebuilding": True}, status=503)
    response["Retry-After"] = "5"
    return response


def within_budget(search_function, *args, **kwargs):
    """The search's answer, or None when making it took more than BULLETINS_SEARCH_BUDGET_MS of
    work: such an answer is not served, and the reader is asked for a narrower query. Loading
    the query's dictionaries, once per process, is not the search's work. Raises
    search.index.Unavailable while the index is being rebuilt."""
    search.load_dictionaries()
    start = time.thread_time()
    found = search_function(*args, **kwargs)
    if (time.thread_time() - start) * 1000 > settings.BULLETINS_SEARCH_BUDGET_MS:
        logger.warning("search over its budget of %d ms: %r", settings.BULLETINS_SEARCH_BUDGET_MS, args[0][:100])
        return None
    return found


def answers_while_rebuilding(view):
    """A search view that answers 503 (unavailable()) while the index is rebuilt."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        try:
            return view(request, *args, **kwargs)
        except search.index.Unavailable as error:
            return unavailable(request, error)

    return wrapper

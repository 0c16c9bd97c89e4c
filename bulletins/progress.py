"""How far a long piece of work has got: a line in the log per batch, or, where a person
watches a terminal (`manage.py loadbulletins`), a bar per phase drawn by tqdm.

A load of 10,000 bulletins takes most of a minute, and said nothing until it ended.
"""

import contextvars
import logging
from contextlib import contextmanager

logger = logging.getLogger(__name__)
BATCH = 500  # work of fewer steps than this is short: it draws a bar, but logs no line
_reporter = contextvars.ContextVar("progress_reporter", default=None)


def step(phase, done, total):
    """`done` of `total` steps of `phase` ("parsed", "written", "pages rendered", "indexed")."""
    reporter = _reporter.get()
    if reporter is not None:
        reporter(phase, done, total)
    elif total >= BATCH and (done % BATCH == 0 or done == total):
        logger.info("%s: %s of %s", phase, f"{done:,}", f"{total:,}")


@contextmanager
def bars(stream):
    """Within this, progress is a tqdm bar per phase on `stream` (a terminal), not log lines."""
    from tqdm import tqdm

    drawn = {}

    def report(phase, done, total):
        bar = drawn.get(phase)
        if bar is None:
            bar = drawn[phase] = tqdm(total=total, desc=phase, unit=" bulletins", file=stream, leave=True, mininterval=0.2)
        bar.update(done - bar.n)

    token = _reporter.set(report)
    try:
        yield
    finally:
        _reporter.reset(token)
        for bar in drawn.values():
            bar.close()

"""Content files parsed where a runaway parse can be stopped.

Markdown's work is not linear in every input: within the shape bounds of content.py a block of
brackets still takes seconds, and a 2 MiB file of them minutes, while a real bulletin of that
size parses in half a second. A load therefore parses each file first in a process of a pebble
pool, which kills the process of a file still parsing past the time limit; the file is refused
and the load goes on, so no file holds the load (and its lock) longer than the limit.

The processes are forked from multiprocessing's fork server, a process of its own with no
thread but its own, so a server's background load may use them too. They import this module,
not Django's settings: what the parse needs comes as arguments.
"""

import ctypes
import multiprocessing
import os
import pickle
import signal
from concurrent.futures import TimeoutError
from dataclasses import dataclass

import pebble

from . import content


def parse_path(path, name, max_blocks):
    """A Bulletin, or the ContentError that refuses the file: returned, so a pool can send it back."""
    try:
        with open(path, "rb") as handle:
            data = handle.read()
        return content.parse_bulletin(name, data, max_blocks)
    except content.ContentError as error:
        return error
    except OSError as error:  # unreadable, or gone since the folder was listed
        return content.ContentError(name, 1, f"cannot be read: {error.strerror or error}")


@dataclass(frozen=True)
class Claim:
    """What deciding a bulletin's slug needs of it: all a load keeps in memory of every changed
    file. The parsed bulletin waits in `spooled`, a file of the load's own, to be written."""

    path: str
    slug: str
    slug_line: int
    digest: str
    spooled: str


def claim(path, name, max_blocks, spooled):
    """The Claim of a file that parses, its Bulletin pickled to `spooled`; or its ContentError.

    The one parse of the file in its load: what is written is what was claimed, even if the
    file is edited meanwhile (the next load publishes the edit), and a load of ten thousand
    files holds ten thousand Claims, not ten thousand bulletins."""
    result = parse_path(path, name, max_blocks)
    if isinstance(result, content.ContentError):
        return result
    if spooled is not None:  # None: a check, which writes nothing
        with open(spooled, "wb") as handle:
            pickle.dump(result, handle, protocol=pickle.HIGHEST_PROTOCOL)
    return Claim(result.path, result.slug, result.slug_line, result.digest, spooled)


def spooled_bulletin(claim):
    with open(claim.spooled, "rb") as handle:
        return pickle.load(handle)


def bounded(function, jobs, seconds, processes):
    """function(*job) for each of `jobs`, in order, each in a pool process stopped after
    `seconds`; a ContentError names a job that ran out of time or ended its process."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    workers = max(1, min(processes, len(jobs)))
    with pebble.ProcessPool(max_workers=workers, context=context, initializer=die_with_parent) as pool:
        futures = [pool.schedule(function, args=job, timeout=seconds) for job in jobs]
        for (_, name, *_), future in zip(jobs, futures, strict=True):
            try:
                yield future.result()
            except TimeoutError:
                yield content.ContentError(name, 1, f"takes more than {seconds:g} s to parse (BULLETINS_PARSE_SECONDS): simplify it")
            except pebble.ProcessExpired as error:
                yield content.ContentError(name, 1, f"ended the process that parsed it ({error}): simplify it")


def die_with_parent(parent=None):
    """A pool process's first step: SIGKILL when the process that forked it ends, however it ends
    (Linux's PR_SET_PDEATHSIG), so that no parse outlives its load. The fork server ends with
    the load that started it, and its children with it. `parent`: the pid that must have forked
    this process, in case it ended before the call."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # 1: PR_SET_PDEATHSIG
    except (OSError, AttributeError):  # not Linux: the processes end when their queue does
        return
    if parent is not None and os.getppid() != parent:
        os._exit(1)

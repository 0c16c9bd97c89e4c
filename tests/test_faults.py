"""Faults of the processes behind `make run` (supervisord, nginx, gunicorn), on real processes:
each is killed, stopped or made to crash, and the site must answer again within 10 s (a crash
loop must back off), with nothing of the dead process left holding a port."""

import itertools
import os
import re
import shutil
import signal
import time
import urllib.error
import urllib.request
from datetime import datetime

import pytest

from bulletins.testing.processes import Front, process_state
from deploy.run import process_group

from .support import CONTENT

RECOVERY = 10  # seconds: the bound for the site to answer again


@pytest.fixture
def content(tmp_path):
    shutil.copytree(CONTENT, tmp_path / "content")
    return tmp_path / "content"


def answered(front, path="/healthz"):
    """Whether a request through nginx that it never answers from its cache gets a 200 within 1 s."""
    try:
        with urllib.request.urlopen(front.url + path, timeout=1) as response:
            return response.status == 200
    except (OSError, urllib.error.HTTPError):
        return False


def seconds_until_answered(front, since, replaced=None, limit=30):
    """Seconds from `since` until the site answers again (a replica, not nginx's copy), with
    the `replaced` program ("nginx", "replica-1") started anew and its old group gone."""
    old = front.pid(replaced) if replaced else None
    deadline = since + limit
    while time.monotonic() < deadline:
        if (old is None or (front.pid(replaced) != old and gone(old))) and answered(front):
            return time.monotonic() - since
        time.sleep(0.1)
    raise AssertionError(f"no answer within {limit} s:\n{front.program_log('supervisord')[-3000:]}")


def gone(pgid):
    """Whether nothing of a process group is left but zombies."""
    return all(process_state(pid) in (None, "Z") for pid in process_group(pgid))


def test_nginx_killed_or_stopped_is_started_again_without_its_orphans(tmp_path, content):
    """serve.py stopped the whole site when nginx exited, and after a kill -9 nginx's orphaned
    workers kept the port, so no new nginx could listen."""
    front = Front(tmp_path, content, make="run")
    try:
        for sig in (signal.SIGKILL, signal.SIGTERM):
            os.kill(front.pid("nginx"), sig)
            took = seconds_until_answered(front, time.monotonic(), replaced="nginx")
            assert took < RECOVERY, (sig, took)
    finally:
        front.stop()


def test_a_replica_killed_or_hung_is_started_again(tmp_path, content):
    """A killed replica is started again once its orphaned workers are stopped; a hung one (its
    whole group stopped) is noticed by the health check and restarted: serve.py let readers
    wait 30 s for a 504 forever."""
    front = Front(tmp_path, content, make="run")
    try:
        os.kill(front.pid("replica-1"), signal.SIGKILL)
        took = seconds_until_answered(front, time.monotonic(), replaced="replica-1")
        assert took < RECOVERY, took

        time.sleep(2)  # past supervisord's start window (startsecs): a replica that runs, then hangs
        os.killpg(front.pid("replica-1"), signal.SIGSTOP)
        took = seconds_until_answered(front, time.monotonic(), replaced="replica-1")
        assert took < RECOVERY, took
        assert "replica-1 is in RUNNING state, restarting" in front.program_log("health-1")
    finally:
        front.stop()


def test_after_the_manager_is_killed_the_site_answers_and_the_next_make_run_starts(tmp_path, content):
    """kill -9 of serve.py left nginx answering 502 and the next `make run` failing with
    "Address already in use". Now its programs keep serving, and the next start stops them
    by their pid files before starting its own."""
    front = Front(tmp_path, content, make="run")
    try:
        supervisord, nginx, replica = front.pid("supervisord"), front.pid("nginx"), front.replicas()[1][0]
        os.kill(supervisord, signal.SIGKILL)
        front.process.wait(timeout=30)  # make, whose recipe supervisord was
        assert answered(front)  # nginx and the replica outlive their manager
        started = time.monotonic()
        front.start()
        assert time.monotonic() - started < 30
        assert answered(front)
        assert front.pid("supervisord") != supervisord and gone(nginx) and gone(replica)
        assert "left from an earlier run" in front.output()
    finally:
        front.stop()


SPAWNED = re.compile(r"^(\S+ \S+),\d+ INFO spawned: 'replica-1'", re.MULTILINE)


def test_a_replica_that_keeps_crashing_is_started_again_less_and_less_often(tmp_path, content):
    """serve.py restarted a replica that could not start once a second (28 times in 30 s).
    Here content/ disappears under a running site, so every start of the replica fails: the
    pauses between starts grow, and once content/ is back the site serves again."""
    front = Front(tmp_path, content)
    try:
        aside = tmp_path / "content-aside"
        content.rename(aside)
        os.kill(front.replicas()[1][0], signal.SIGKILL)
        time.sleep(12)  # the crash loop being observed
        starts = [datetime.fromisoformat(when) for when in SPAWNED.findall(front.program_log("supervisord"))]
        pauses = [(later - earlier).total_seconds() for earlier, later in itertools.pairwise(starts[1:])]  # after the kill
        assert 4 <= len(starts) <= 6, starts  # the first start, then 3 to 5 in 12 s: serve.py made 12
        assert pauses == sorted(pauses) and pauses[-1] >= 2.5, pauses
        aside.rename(content)
        front.wait_until(lambda: answered(front), "the replica to start again once content/ is back", timeout=30)
    finally:
        front.stop()

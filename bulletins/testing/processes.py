"""The site in real processes, for the tests and the benches: a gunicorn (Server), `make run`
or `make cluster` under supervisord (Front), each with its own database, and the /proc
readings they need."""

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent  # the project: manage.py, the Makefile, deploy/


def site_env(tmp_path, **extra):
    """Environment for a real server or loader process with its own database."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="bulletins.settings",
        BULLETINS_DATA_DIR=str(tmp_path / "var"),
        BULLETINS_DB_PATH=str(tmp_path / "var" / "site.sqlite3"),
        PYTHONPATH=str(ROOT),
    )
    env.update({key: str(value) for key, value in extra.items()})
    return env


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A real gunicorn serving the site from its own database and content folder."""

    def __init__(self, tmp_path, content, workers=2, app="bulletins.wsgi", args=(), **env):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp_path / f"gunicorn-{self.port}.log"
        self.env = site_env(tmp_path, BULLETINS_CONTENT_DIR=content, **env)
        command = [
            str(Path(sys.executable).with_name("gunicorn")),
            app,
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(workers),
            "--graceful-timeout",
            "10",
            "--access-logfile",
            "-",
            "--error-logfile",
            "-",
            "--no-control-socket",
            *args,
        ]
        self.log = open(self.log_path, "w")
        self.process = subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)
        self.wait_until(lambda: self.get("/healthz")[0] == 200, "the server to answer")

    def get(self, path, headers=None):
        request = urllib.request.Request(self.url + path, headers=headers or {})
        try:
            with urllib.request.urlopen(request, timeout=10) as response:
                return response.status, response.read().decode(), dict(response.headers)
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode(), dict(error.headers)
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            return None, "", {}

    def wait_until(self, condition, what, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"gunicorn exited while waiting for {what}:\n{self.output()}")
            if condition():
                return
            time.sleep(0.1)
        raise AssertionError(f"timed out waiting for {what}:\n{self.output()}")

    def reload(self):
        self.process.send_signal(signal.SIGHUP)

    def output(self):
        self.log.flush()
        return self.log_path.read_text()

    def stop(self):
        self.process.terminate()
        self.process.wait(timeout=30)
        self.log.close()


def process_state(pid):
    try:
        return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0]
    except OSError:
        return None


def children(pid):
    """The process ids whose parent is `pid` (a child of any of its threads), from /proc."""
    found = []
    for listing in Path(f"/proc/{pid}/task").glob("*/children"):
        with contextlib.suppress(OSError):
            found += [int(child) for child in listing.read_text().split()]
    return found


class Front:
    """`make run`, `make cluster` or deploy/run.py itself: supervisord running nginx on a port of
    its own in front of `replicas` gunicorns, each with a data folder of its own under tmp_path
    (`make run`: the one of site_env)."""

    def __init__(self, tmp_path, content, replicas=1, workers=2, make=None, start_timeout=60, **env):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.data = tmp_path / "cluster"
        self.log_path = tmp_path / f"run-{self.port}.log"
        self.env = site_env(tmp_path, BULLETINS_CONTENT_DIR=content, **env)
        self.base = Path(self.env["BULLETINS_DATA_DIR"]) if make == "run" else self.data  # where the run keeps its files
        self.make, self.replica_count, self.workers = make, replicas, workers
        self.start(start_timeout)

    def command(self):
        if self.make == "run":
            return ["make", "--no-print-directory", "run", f"PORT={self.port}", f"WORKERS={self.workers}"]
        if self.make == "cluster":
            settings = (f"PORT={self.port}", f"REPLICAS={self.replica_count}", f"CLUSTER_WORKERS={self.workers}", f"DATA={self.data}")
            return ["make", "--no-print-directory", "cluster", *settings]
        return [
            *(sys.executable, str(ROOT / "deploy" / "run.py"), "start", "--port", str(self.port), "--data", str(self.data)),
            *("--replicas", str(self.replica_count), "--workers", str(self.workers)),
        ]

    def start(self, timeout=60):
        """Start (again, after a fault): until nginx answers and every replica serves."""
        self.log = open(self.log_path, "a")
        output = {"stdout": self.log, "stderr": subprocess.STDOUT}
        self.process = subprocess.Popen(self.command(), cwd=ROOT, env=self.env, start_new_session=True, **output)
        try:
            self.wait_until(lambda: self.managed() and self.get("/")[0] == 200 and self.serving(), "the site to answer", timeout=timeout)
        except BaseException:
            self.stop()  # nginx and the replicas with it, not left behind on a port
            raise

    get = Server.get
    wait_until = Server.wait_until
    output = Server.output

    def state(self, name):
        """A file of the run's supervisor folder: its configuration, socket, pid files."""
        return self.base / "supervisor" / name

    def pid(self, program):
        """The pid of supervisord, nginx or replica-N, as its pid file says (the latest start)."""
        return int(self.state(f"{program}.pid").read_text())

    def replicas(self):
        """{number: (gunicorn master pid, port)}, the latest start of each."""
        ports = json.loads(self.state("replicas.json").read_text())
        return {int(number): (self.pid(f"replica-{number}"), port) for number, port in ports.items()}

    def managed(self):
        """Whether the supervisord its pid file names runs (a killed one's file names a dead process)."""
        try:
            return process_state(self.pid("supervisord")) not in (None, "Z")
        except (OSError, ValueError):
            return False

    def serving(self):
        try:
            return all(health(port) is not None for _, port in self.replicas().values())
        except (OSError, ValueError):
            return False

    def program_log(self, program):
        return (self.base / "logs" / f"{program}.log").read_text()

    def reload(self):
        """`make reload`'s command, in the background: a rolling reload of every replica."""
        command = [sys.executable, str(ROOT / "deploy" / "run.py"), "reload", "--data", str(self.base)]
        return subprocess.Popen(command, cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT)

    def stop(self):
        """TERM to the whole group, as a terminal's Ctrl-C would send INT: make and supervisord,
        which stops nginx and then the replicas; then whatever a fault left, by its pid files."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        self.process.wait(timeout=60)
        with contextlib.suppress(OSError, ValueError):
            supervisord = self.pid("supervisord")
            deadline = time.monotonic() + 60
            while process_state(supervisord) not in (None, "Z") and time.monotonic() < deadline:
                time.sleep(0.1)
        leftovers = [sys.executable, str(ROOT / "deploy" / "run.py"), "stop", "--data", str(self.base)]
        subprocess.run(leftovers, cwd=ROOT, env=self.env, stdout=self.log, stderr=subprocess.STDOUT, timeout=60)
        self.log.close()


def health(port, timeout=5):
    """A replica's /healthz as a dict, or None while it does not answer 200."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=timeout) as response:
            return json.loads(response.read())
    except (OSError, ValueError):
        return None

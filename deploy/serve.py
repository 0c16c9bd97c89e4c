"""nginx in front of N replicas of the site on this machine: `make run` (one) and `make cluster`.

    python deploy/serve.py --port 8000                         # what `make run` does
    python deploy/serve.py --port 8080 --replicas 3 --data var/cluster

Each replica is a gunicorn of its own on a loopback port, with its own database and search
index built from the same content/ (its own data folder under --data; with one replica and no
--data, the site's usual one, where manage.py finds it). nginx (deploy/nginx.conf) takes the
readers' connections, so a slow client holds no Python worker, and tries another replica when
one fails. This process keeps them running:

- a replica that exits is started again; meanwhile nginx sends its readers to the others;
- HUP reloads the replicas one after another, each once the one before serves the new content;
- TERM or INT stops nginx (after the answers under way) and then the replicas.
"""

import argparse
import contextlib
import ctypes
import hashlib
import http.client
import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from bulletins import conf  # noqa: E402  (settings declared once; no Django needed)

TEMPLATE = Path(__file__).resolve().with_name("nginx.conf")
BROTLI_MODULE = Path("/usr/lib/nginx/modules/ngx_http_brotli_filter_module.so")
COMPRESSED_TYPES = (
    "text/css application/javascript application/json application/atom+xml application/rss+xml "
    "application/xml text/xml text/plain image/svg+xml"
)


def log(message):
    print(f"serve: {message}", file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def health(port, timeout=5):
    """A replica's /healthz as a dict, or None while it does not answer 200."""
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
        connection.request("GET", "/healthz", headers={"Host": "127.0.0.1"})
        response = connection.getresponse()
        body = response.read()
        connection.close()
        return json.loads(body) if response.status == 200 else None
    except (OSError, ValueError):
        return None


def end_with_parent():
    """In a replica's master before exec: TERM when this process dies, however it dies."""
    ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # 1: PR_SET_PDEATHSIG


class Replica:
    """One gunicorn, on a loopback port of its own, with its own data folder (or the default),
    in a process group of its own: when its master dies, none of its workers is left holding
    the port."""

    def __init__(self, number, data, workers):
        self.number, self.data, self.workers = number, data, workers
        self.port = free_port()
        self.process = None
        self.started = self.hupped = None
        self.before = None

    def start(self):
        env = dict(os.environ)
        if self.data is not None:
            self.data.mkdir(parents=True, exist_ok=True)
            env["BULLETINS_DATA_DIR"] = str(self.data)
            env["BULLETINS_DB_PATH"] = str(self.data / "bulletins.sqlite3")
            env.pop("BULLETINS_INDEX_DIR", None)  # beside this replica's database
        env["BULLETINS_WARM_START"] = "1"  # listen once the first search need not wait (gunicorn.conf.py)
        command = [
            str(Path(sys.executable).with_name("gunicorn")),
            "bulletins.wsgi",
            "--bind",
            f"127.0.0.1:{self.port}",
            "--workers",
            str(self.workers),
            "--graceful-timeout",
            "20",
            "--error-logfile",
            "-",
            "--no-control-socket",
            "--name",
            f"replica-{self.number}",
        ]
        self.process = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True, preexec_fn=end_with_parent)
        self.started = time.monotonic()
        log(f"replica {self.number}: gunicorn {self.process.pid} on 127.0.0.1:{self.port}")

    def restart(self):
        """After its master exited: stop what is left of it (workers outlive a killed master
        for a while, still listening; TERM lets each finish the answer it is writing), then
        start it again (gunicorn retries its port for a few seconds while they exit)."""
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        self.start()

    def wait_until_serving(self, timeout=1800):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"serve: replica {self.number} exited with {self.process.returncode} before serving")
            if health(self.port) is not None:
                return
            time.sleep(0.2)
        raise SystemExit(f"serve: replica {self.number} did not answer within {timeout} s")

    def hup(self):
        """A graceful reload: new workers, which check content/ (bulletins.loader)."""
        self.before = health(self.port)
        self.hupped = time.monotonic()
        self.process.send_signal(signal.SIGHUP)

    def reloaded(self, timeout=120):
        """Whether the reload is done: its /healthz reports a load since, or it was started
        again since (a start checks content/ too); or it took too long to wait for."""
        now = health(self.port)
        if now is not None and (self.started > self.hupped or self.before is None or now.get("last_load") != self.before.get("last_load")):
            log(f"replica {self.number}: reloaded, {now.get('last_load')}")
            return True
        if time.monotonic() - self.hupped > timeout:
            log(f"replica {self.number}: no load reported within {timeout} s of the reload; going on")
            return True
        return False

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()

    def wait(self, timeout=30):
        try:
            self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


def workers_folder(folder):
    """`folder`, made for nginx's workers to write. Started as root, nginx runs them as nobody,
    who must also reach it; where a parent folder keeps others out (a private temporary folder),
    a folder of their own under /tmp."""
    folder.mkdir(parents=True, exist_ok=True)
    if os.geteuid() != 0:
        return folder
    if any(parent.stat().st_mode & 0o001 == 0 for parent in folder.parents):
        folder = Path(tempfile.mkdtemp(prefix="bulletins-nginx-"))
    nobody = pwd.getpwnam("nobody")
    os.chown(folder, nobody.pw_uid, nobody.pw_gid)
    return folder


def cache_folder(state, port):
    """Where nginx keeps its front cache: on tmpfs (/dev/shm) where the system has one, so a
    hit never waits on a disk, else in the data folder. Emptied at every start: the copies of
    another run may be of other content."""
    shm = Path("/dev/shm")
    parent = shm if shm.is_dir() and os.access(shm, os.W_OK) else state
    folder = parent / f"bulletins-cache-{hashlib.sha256(str(state).encode()).hexdigest()[:12]}-{port}"
    shutil.rmtree(folder, ignore_errors=True)
    return workers_folder(folder)


def nginx_config(listen, ports, state, access_log, temp, cache, cache_seconds):
    if BROTLI_MODULE.exists():
        modules = f"load_module {BROTLI_MODULE};"
        # For answers a replica sends uncompressed; stored pages come compressed as stored.
        brotli = f"brotli on;\n    brotli_comp_level 5;\n    brotli_min_length 512;\n    brotli_types {COMPRESSED_TYPES};"
    else:
        modules = "# (no brotli: Debian's libnginx-mod-http-brotli-filter is not installed)"
        brotli = ""
    room = shutil.disk_usage(cache).total  # the cache's file system, as a whole
    servers = "\n        ".join(f"server 127.0.0.1:{port} max_fails=1 fail_timeout=2s;" for port in ports)
    text = TEMPLATE.read_text()
    for name, value in {
        "@MODULES@": modules,
        "@BROTLI@": brotli,
        "@SERVERS@": servers,
        "@LISTEN@": listen,
        "@STATE@": str(state),
        "@PROXY_TEMP@": str(temp),
        "@CACHE_PATH@": str(cache),
        # tmpfs is memory, and a container's /dev/shm may be 64 MB: 256 MB at most, half of it at most.
        "@CACHE_SIZE@": f"{min(256 * 2**20, room // 2) // 2**20}m",
        "@CACHE_FREE@": f"{room // 4 // 2**20}m",
        "@CACHE_SECONDS@": str(cache_seconds),
        "@CACHE@": "pages" if cache_seconds else "off",
        # Written a 64 KB buffer at a time (or each second): a line per request written at once
        # costs a cached page a tenth of its rate.
        "@ACCESS_LOG@": "off" if access_log == "off" else f"{access_log} replicas buffer=64k flush=1s",
    }.items():
        text = text.replace(name, value)
    return text


def main():
    args = arguments()
    nginx = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
    if nginx is None:
        sys.exit("serve: nginx is missing (make run installs it: apt-get install -y nginx)")
    if args.data is None and args.replicas > 1:
        args.data = ROOT / "var" / "cluster"
    base = (args.data or Path(os.environ.get("BULLETINS_DATA_DIR", ROOT / "var"))).resolve()
    replicas = [Replica(n, base / f"replica-{n}" if args.data is not None else None, args.workers) for n in range(1, args.replicas + 1)]
    state = base / "nginx"
    state.mkdir(parents=True, exist_ok=True)
    host = f"[{args.host}]" if ":" in args.host else args.host
    config = state / "nginx.conf"
    cache = cache_folder(state, args.port)
    cache_seconds = conf.read()["BULLETINS_FRONT_CACHE_SECONDS"]
    temp = workers_folder(state / "proxy")
    config.write_text(nginx_config(f"{host}:{args.port}", [r.port for r in replicas], state, args.access_log, temp, cache, cache_seconds))

    signals = []
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, lambda signum, frame: signals.append(signum))

    for replica in replicas:  # one after another: the first builds its database while the others wait for nothing
        replica.start()
        replica.wait_until_serving()
    front = subprocess.Popen([nginx, "-p", str(state), "-c", str(config), "-e", "stderr", "-g", "daemon off;"])
    log(f"nginx {front.pid} on http://{host}:{args.port}/ in front of {len(replicas)} replica(s)")
    code = supervise(replicas, front, signals)
    stop(replicas, front)
    shutil.rmtree(cache, ignore_errors=True)
    sys.exit(code)


def arguments():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--replicas", type=int, default=1)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) * 2 + 1, help="gunicorn workers per replica")
    parser.add_argument("--data", type=Path, help="a data folder per replica under this one (replica-1, …)")
    parser.add_argument("--access-log", default="/dev/stdout", help="nginx's access log, or off")
    return parser.parse_args()


def supervise(replicas, front, signals):
    """Keep nginx and the replicas running until TERM or INT; roll a reload on HUP. The exit code."""
    rolling = []  # the replicas still to reload, the first one reloading
    while True:
        if signals:
            if signals.pop(0) != signal.SIGHUP:
                return 0
            log("reloading the replicas one after another")
            rolling = list(replicas)  # again from the first: a second change reaches all of them too
            rolling[0].hup()
        if front.poll() is not None:
            log(f"nginx exited with {front.returncode}")
            return 1
        for replica in replicas:
            if replica.process.poll() is not None and time.monotonic() - replica.started > 1:
                log(f"replica {replica.number} exited with {replica.process.returncode}; starting it again")
                replica.restart()
        if rolling and rolling[0].reloaded():
            rolling.pop(0)
            if rolling:
                rolling[0].hup()
        time.sleep(0.2)


def stop(replicas, front):
    """nginx first, gracefully (the answers under way are finished), then the replicas."""
    if front.poll() is None:
        front.send_signal(signal.SIGQUIT)
    for replica in replicas:
        replica.stop()
    for replica in replicas:
        replica.wait()
    try:
        front.wait(30)
    except subprocess.TimeoutExpired:
        front.kill()


if __name__ == "__main__":
    main()

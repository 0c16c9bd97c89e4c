"""nginx in front of N replicas of the site on this machine, kept running by supervisord:
`make run` (one replica), `make cluster` (several) and `make reload`.

    python deploy/run.py start --port 8000                       # what `make run` does
    python deploy/run.py start --port 8080 --replicas 3 --data var/cluster
    python deploy/run.py reload [--data var/cluster]             # a rolling reload
    python deploy/run.py stop [--data var/cluster]               # stop it, or what a killed one left

`start` stops what an earlier run from the same data folder left behind (a supervisord, or the
nginx and gunicorns it ran, found by their pid files), loads content/ into each replica's own
database, writes nginx's and supervisord's configurations from deploy/ and becomes supervisord,
in the foreground. supervisord restarts what exits (with backoff when it exits at once), stops
nginx and then the replicas on TERM or INT, and keeps a log per program in the data folder's
logs/; superlance's httpok restarts a replica whose /healthz stops answering.

`reload` publishes a change of content/ without a failed request: it HUPs one replica at a
time through supervisord and waits for its /healthz to report the load that followed before
going on to the next. `exec` is how supervisord starts each program (see supervisord.conf).
"""

import argparse
import contextlib
import hashlib
import http.client
import json
import os
import pwd
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import xmlrpc.client
from pathlib import Path

from bulletins import conf  # settings declared once; no Django needed

ROOT = Path(__file__).resolve().parent.parent

DEPLOY = Path(__file__).resolve().parent
BIN = Path(sys.executable).parent
BROTLI_MODULE = Path("/usr/lib/nginx/modules/ngx_http_brotli_filter_module.so")
COMPRESSED_TYPES = (
    "text/css application/javascript application/json application/atom+xml application/rss+xml "
    "application/xml text/xml text/plain image/svg+xml"
)


def log(message):
    print(f"run: {message}", file=sys.stderr, flush=True)


class Layout:
    """Where a run keeps its files, all under one data folder (`var/` for `make run`)."""

    def __init__(self, data, replicas):
        self.data = data
        self.base = Path(data or conf.read()["BULLETINS_DATA_DIR"]).resolve()
        self.state = self.base / "supervisor"  # supervisord's configuration, socket and pid files
        self.nginx = self.base / "nginx"
        self.logs = self.base / "logs"
        self.replicas = range(1, replicas + 1)

    def replica_data(self, number):
        """A replica's own data folder; with one replica and no --data, the site's usual one."""
        return None if self.data is None else self.base / f"replica-{number}"

    def replica_env(self, number):
        env = {"BULLETINS_WARM_START": "1"}  # listen once the first search need not wait (gunicorn.conf.py)
        folder = self.replica_data(number)
        if folder is not None:
            env.update(BULLETINS_DATA_DIR=str(folder), BULLETINS_DB_PATH=str(folder / "bulletins.sqlite3"))
        return env

    @property
    def socket(self):
        """supervisord's control socket: in the supervisor folder, or in /tmp where that path is
        past the 107 bytes a unix socket's path may have."""
        path = self.state / "supervisord.sock"
        if len(os.fsencode(path)) <= 100:
            return path
        return Path(tempfile.gettempdir()) / f"bulletins-{hashlib.sha256(bytes(path)).hexdigest()[:16]}.sock"

    def ports(self):
        """{replica number: its port}, as the running configuration has them."""
        return {int(number): port for number, port in json.loads((self.state / "replicas.json").read_text()).items()}


# Processes a killed run left behind.


def process_group(pgid):
    """The processes of a process group, from /proc."""
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[2]) == pgid:
                members.append(int(entry))
    return members


def command_line(pid):
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return ""


def stop_leftovers(pidfile, name, grace=10):
    """Stop the processes of the group a pid file names (supervisord makes each program a group
    of its own) that are still `name`: the workers of an nginx or a gunicorn killed with -9 keep
    its port. TERM lets each finish what it is answering; KILL after `grace` seconds."""
    try:
        pgid = int(pidfile.read_text())
    except (OSError, ValueError):
        return
    found = [pid for pid in process_group(pgid) if pid != os.getpid() and name in command_line(pid)]
    if not found:
        return
    log(f"stopping {len(found)} {name} process(es) left from an earlier run: {' '.join(map(str, found))}")
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5)):
        for pid in found:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline and any(name in command_line(pid) for pid in found):
            time.sleep(0.1)
        found = [pid for pid in found if name in command_line(pid)]
        if not found:
            return


def stop_earlier_run(layout):
    """A supervisord still running from this data folder is asked to stop (its programs with
    it); then whatever a killed one left is stopped by its pid files."""
    pidfile = layout.state / "supervisord.pid"
    try:
        pid = int(pidfile.read_text())
    except (OSError, ValueError):
        pid = None
    if pid is not None and pid != os.getpid() and "supervisord" in command_line(pid):
        log(f"stopping the supervisord of an earlier run from {layout.base} (pid {pid})")
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 60
        while "supervisord" in command_line(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
    for program in sorted(layout.state.glob("*.pid")):
        if program.name != "supervisord.pid":
            stop_leftovers(program, "nginx" if program.stem == "nginx" else "gunicorn")


def exec_program(pidfile, name, command, after=(), patience=60):
    """How supervisord starts a program: what a killed predecessor left is stopped, then this
    process, its pid written down, becomes the program (same pid, same process group).

    nginx starts `after` the replicas listen (or `patience` seconds, so that it can still serve
    its copies while none does): readers asking earlier would get 503s, and nginx would count
    each replica failed for its fail_timeout."""
    stop_leftovers(pidfile, name)
    deadline = time.monotonic() + patience
    while after and time.monotonic() < deadline and not all(listening(port) for port in after):
        time.sleep(0.1)
    pidfile.write_text(f"{os.getpid()}\n")
    os.execv(command[0], command)


def listening(port):
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) == 0


# Configuration.


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


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


def filled(template, names):
    text = (DEPLOY / template).read_text()
    for name, value in names.items():
        text = text.replace(name, value)
    return text


def nginx_config(listen, ports, state, access_log, temp, cache, cache_seconds):
    if BROTLI_MODULE.exists():
        modules = f"load_module {BROTLI_MODULE};"
        # For answers a replica sends uncompressed; stored pages come compressed as stored.
        brotli = f"brotli on;\n    brotli_comp_level 5;\n    brotli_min_length 512;\n    brotli_types {COMPRESSED_TYPES};"
    else:
        modules = "# (no brotli: Debian's libnginx-mod-http-brotli-filter is not installed)"
        brotli = ""
    room = shutil.disk_usage(cache).total  # the cache's file system, as a whole
    servers = "\n        ".join(f"server 127.0.0.1:{port} max_fails=1 fail_timeout=5s;" for port in ports)
    return filled(
        "nginx.conf",
        {
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
        },
    )


def quoted(value):
    """A value for supervisord's configuration: shell-quoted, and % doubled (its expansions)."""
    return shlex.quote(str(value)).replace("%", "%%")


def supervisord_config(layout, ports, nginx, port, workers):
    common = {
        "@STATE@": quoted(layout.state),
        "@SOCKET@": quoted(layout.socket),
        "@LOGS@": quoted(layout.logs),
        "@ROOT@": quoted(ROOT),
        "@PYTHON@": quoted(sys.executable),
        "@RUN@": quoted(Path(__file__).resolve()),
    }
    replicas = []
    for number, replica_port in ports.items():
        environment = ",".join(f'{key}="{value}"'.replace("%", "%%") for key, value in layout.replica_env(number).items())
        names = {
            "@N@": str(number),
            "@PORT@": str(replica_port),
            "@WORKERS@": str(workers),
            "@DATA@": str(layout.replica_data(number) or layout.base),
            "@ENVIRONMENT@": environment,
            "@GUNICORN@": quoted(BIN / "gunicorn"),
            "@HTTPOK@": quoted(BIN / "httpok"),
            **common,
        }
        replicas.append(filled("replica.conf", names))
    names = {
        "@AFTER@": " ".join(f"--after {port}" for port in ports.values()),
        "@NGINX@": quoted(nginx),
        "@NGINX_STATE@": quoted(layout.nginx),
        "@PORT@": str(port),
        # As root, supervisord says so unless told (nginx then runs its workers as nobody).
        "@USER@": "user = root" if os.geteuid() == 0 else "",
        **common,
    }
    return filled("supervisord.conf", names).replace("@REPLICAS@", "\n".join(replicas))


def first_loads(layout):
    """content/ into each replica's database, one after another (a load of a large archive
    takes a core and hundreds of MB), before supervisord starts them: a replica then listens
    within seconds, so that supervisord's start window and the health check hold."""
    for number in layout.replicas:
        env = {**os.environ, **layout.replica_env(number)}
        if layout.replica_data(number) is not None:
            layout.replica_data(number).mkdir(parents=True, exist_ok=True)
            env.pop("BULLETINS_INDEX_DIR", None)  # beside this replica's database
        if subprocess.run([sys.executable, str(ROOT / "manage.py"), "loadbulletins"], cwd=ROOT, env=env).returncode != 0:
            sys.exit(f"run: loading content/ into replica {number} failed (see above); nothing started")


def start(args):
    nginx = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/sbin")
    if nginx is None:
        sys.exit("run: nginx is missing (make run installs it: apt-get install -y nginx)")
    if args.data is None and args.replicas > 1:
        args.data = ROOT / "var" / "cluster"
    layout = Layout(args.data, args.replicas)
    for folder in (layout.state, layout.nginx, layout.logs):
        folder.mkdir(parents=True, exist_ok=True)
    stop_earlier_run(layout)
    first_loads(layout)

    ports = {number: free_port() for number in layout.replicas}
    host = f"[{args.host}]" if ":" in args.host else args.host
    cache = cache_folder(layout.nginx, args.port)
    access_log = layout.logs / "access.log" if args.access_log is None else args.access_log
    temp = workers_folder(layout.nginx / "proxy")
    cache_seconds = conf.read()["BULLETINS_FRONT_CACHE_SECONDS"]
    listen = f"{host}:{args.port}"
    (layout.nginx / "nginx.conf").write_text(nginx_config(listen, ports.values(), layout.nginx, access_log, temp, cache, cache_seconds))
    config = layout.state / "supervisord.conf"
    config.write_text(supervisord_config(layout, ports, nginx, args.port, args.workers))
    (layout.state / "replicas.json").write_text(json.dumps(ports))

    for number, port in ports.items():
        log(f"replica {number} on 127.0.0.1:{port}, log {layout.logs / f'replica-{number}.log'}")
    log(f"nginx on http://{host}:{args.port}/ in front of {len(ports)} replica(s), log {layout.logs / 'nginx.log'}")
    log(f"supervisord: {BIN / 'supervisorctl'} -c {config} status")
    if args.data is not None:
        os.environ.pop("BULLETINS_INDEX_DIR", None)  # each replica's index beside its own database
    supervisord = str(BIN / "supervisord")
    os.execv(supervisord, [supervisord, "--configuration", str(config)])


# Rolling reload.


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


def supervisor(layout):
    """supervisord's XML-RPC interface, on its unix socket."""
    from supervisor.xmlrpc import SupervisorTransport

    transport = SupervisorTransport(None, None, serverurl=f"unix://{layout.socket}")
    return xmlrpc.client.ServerProxy("http://127.0.0.1", transport=transport).supervisor


def reload(args, timeout=120):
    """HUP each replica in turn (gunicorn starts new workers, which check content/) and wait
    until its /healthz reports a load since, or it was started again since (a start loads
    too), before the next: the others answer meanwhile."""
    layout = Layout(args.data, 0)
    rpc = supervisor(layout)
    try:
        rpc.getState()
    except OSError:
        sys.exit(f"run: nothing runs from {layout.base} (no supervisord answers on {layout.socket}): make run starts it")
    for number, port in layout.ports().items():
        name = f"replica-{number}"
        before, started = health(port), rpc.getProcessInfo(name)["start"]
        rpc.signalProcess(name, "HUP")
        deadline = time.monotonic() + timeout
        while True:
            now = health(port)
            if now is not None and (before is None or now.get("last_load") != before.get("last_load")):
                log(f"{name}: reloaded, {now.get('last_load')}")
                break
            if now is not None and rpc.getProcessInfo(name)["start"] != started:
                log(f"{name}: started again, serving {now.get('version')}")
                break
            if time.monotonic() > deadline:
                sys.exit(f"run: {name} reported no load within {timeout} s of its reload; see {layout.logs / (name + '.log')}")
            time.sleep(0.2)


def arguments():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("start", help="nginx in front of the replicas, under supervisord (foreground)")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=8000)
    run.add_argument("--replicas", type=int, default=1)
    run.add_argument("--workers", type=int, default=(os.cpu_count() or 1) * 2 + 1, help="gunicorn workers per replica")
    run.add_argument("--data", type=Path, help="a data folder per replica under this one (replica-1, …)")
    run.add_argument("--access-log", help="nginx's access log (default: logs/access.log in the data folder), or off")
    again = commands.add_parser("reload", help="a rolling reload of the replicas of a running start")
    again.add_argument("--data", type=Path, help="the data folder the run was started with")
    halt = commands.add_parser("stop", help="stop a run from a data folder, and whatever a killed one left there")
    halt.add_argument("--data", type=Path, help="the data folder the run was started with")
    program = commands.add_parser("exec", help="(supervisord's) stop what a killed predecessor left, then become the program")
    program.add_argument("pidfile", type=Path)
    program.add_argument("name", help="what the leftovers' command lines hold: nginx, gunicorn")
    program.add_argument("--after", type=int, action="append", default=[], help="a port to wait for (60 s at most)")
    program.add_argument("program", nargs=argparse.REMAINDER)
    return parser.parse_args()


def main():
    args = arguments()
    if args.command == "start":
        start(args)
    elif args.command == "reload":
        reload(args)
    elif args.command == "stop":
        stop_earlier_run(Layout(args.data, 0))
    else:
        exec_program(args.pidfile, args.name, args.program[1:] if args.program[:1] == ["--"] else args.program, args.after)


if __name__ == "__main__":
    main()

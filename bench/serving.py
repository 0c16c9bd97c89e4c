"""Serving at archive scale: the real gunicorn under wrk, each figure against its floor.

    .venv/bin/python -m bench.serving                        # 10,000 bulletins
    .venv/bin/python -m bench.serving --bulletins 1000 --duration 3

For the three published bulletins and for a synthetic archive (bench/archive.py), in turn:
- throughput of one article page against the same bytes served as a static file by whitenoise
  through the same gunicorn, in interleaved rounds; also the 304 answer to If-None-Match, a mix
  of article pages across the archive, and search pages (a parameter of its own on every
  request, so that no cache on the way could answer);
- the first answered request after a restart with nothing changed, against a bare Django site
  (one view, no apps, no database) under the same gunicorn and settings (preloaded), with one
  worker and with as many as `make run` starts, interleaved;
- each worker's resident memory after all of that, searches included.
Traffic goes to 127.0.0.1 only, for a bounded time. Needs wrk (`make load` installs it).
"""

import argparse
import os
import random
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlencode

from bench.archive import write_archive
from bench.common import add_run_arguments, parse
from bench.load_test import LUA, worker_rss
from bulletins.testing.processes import Server, free_port, site_env

ROOT = Path(__file__).resolve().parent.parent

QUERIES = ["儿童主任", "重庆学校安全", "養老服務", "未保", "2.6亿元", "社会救助", "民政 会议", "低保标准", "工作"]
# LUA, with a parameter of its own on every request: no answer kept for one URL serves another.
FRESH_LUA = """
local paths = {}
for p in string.gmatch(os.getenv("WRK_PATHS"), "[^\\n]+") do paths[#paths + 1] = p end
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("id", threads)
end
local i, n = 0, 0
request = function()
  i = (i % #paths) + 1
  n = n + 1
  return wrk.format("GET", paths[i] .. "&fresh=" .. id .. "-" .. n)
end
"""
BARE_SETTINGS = """
from django.http import HttpResponse
from django.urls import path

SECRET_KEY = "bare"
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1"]
ROOT_URLCONF = __name__
urlpatterns = [path("", lambda request: HttpResponse("ok"))]
"""
BARE_WSGI = """
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bare_settings")
application = get_wsgi_application()
"""


def gunicorn(module, port, workers):
    return [
        str(Path(sys.executable).with_name("gunicorn")),
        module,
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        str(workers),
        "--no-control-socket",
        "--error-logfile",
        "/dev/null",
    ]


def first_answer(command, cwd, env, path):
    """Seconds from starting the server to its first 200 for `path`."""
    port = int(command[command.index("--bind") + 1].rsplit(":", 1)[1])
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as response:
                    if response.status == 200:
                        return time.perf_counter() - start
            except OSError:
                if process.poll() is not None:
                    raise RuntimeError(f"{command} exited") from None
                time.sleep(0.002)
    finally:
        process.terminate()
        process.wait()


def startup(tmp, env, path, workers, rounds):
    """Median first-answer times of the site (restart, nothing changed) and of a bare Django,
    with one worker and with `workers`, interleaved."""
    bare = tmp / "bare"
    bare.mkdir(exist_ok=True)
    (bare / "bare_settings.py").write_text(BARE_SETTINGS)
    (bare / "bare_wsgi.py").write_text(BARE_WSGI)
    bare_env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    bare_env["PYTHONPATH"] = str(bare)
    times = {(kind, n): [] for n in sorted({1, workers}) for kind in ("bare", "site")}
    for _ in range(rounds):
        for kind, n in times:
            if kind == "bare":
                # --preload, as gunicorn.conf.py sets for the site: the same gunicorn either way.
                command = [*gunicorn("bare_wsgi", free_port(), n), "--preload"]
                times[kind, n].append(first_answer(command, bare, bare_env, "/"))
            else:
                times[kind, n].append(first_answer(gunicorn("bulletins.wsgi", free_port(), n), ROOT, env, path))
    return {f"{kind} {n}": statistics.median(values) for (kind, n), values in times.items()}


def wrk(url, paths, duration, connections, script, headers=(), check=True):
    env = dict(os.environ, WRK_PATHS="\n".join(paths))
    command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{duration}s", "--latency", "-s", str(script)]
    for header in headers:
        command += ["-H", header]
    out = subprocess.run([*command, url], env=env, capture_output=True, text=True, timeout=duration + 60).stdout
    figures = parse(out)
    if check and (figures["non_2xx_3xx"] or figures["socket_errors"]):
        raise RuntimeError(f"errors under load:\n{out}")
    return figures


def stored_page(db, slug):
    with sqlite3.connect(db) as connection:
        query = "SELECT p.html, p.etag FROM bulletins_page p JOIN bulletins_article a ON a.id = p.article_id WHERE a.slug = ?"
        return connection.execute(query, [slug]).fetchone()


def measure(name, content, args, tmp):
    site_dir = tmp / name
    site_dir.mkdir()
    static_root = site_dir / "static"  # a static root of this run's own, for the page's bytes
    env = site_env(site_dir, BULLETINS_CONTENT_DIR=content, BULLETINS_STATIC_ROOT=static_root)
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--noinput", "-v", "0"], cwd=ROOT, env=env, check=True)
    subprocess.run([sys.executable, "manage.py", "loadbulletins"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
    db = Path(env["BULLETINS_DB_PATH"])
    with sqlite3.connect(db) as connection:
        slugs = [row[0] for row in connection.execute("SELECT slug FROM bulletins_article ORDER BY id")]
    slug = slugs[len(slugs) // 2]
    page = f"/articles/{slug}/"
    html, etag = stored_page(db, slug)
    (static_root / "bench").mkdir()
    (static_root / "bench" / "page.html").write_bytes(html)

    figures = {"bulletins": len(slugs)}
    figures["startup"] = startup(tmp, env, page, args.workers, args.startup_rounds)
    server = Server(site_dir, content, workers=args.workers, BULLETINS_STATIC_ROOT=static_root)
    script, fresh = tmp / "paths.lua", tmp / "fresh.lua"
    script.write_text(LUA)
    fresh.write_text(FRESH_LUA)
    assert server.get("/static/bench/page.html")[1].encode() == html == server.get(page)[1].encode()
    rng = random.Random(3)
    searches = [f"/search/?{urlencode({'q': q})}" for q in QUERIES]
    kinds = {
        "static": (["/static/bench/page.html"], (), script),
        "page": ([page], (), script),
        "page 304": ([page], (f"If-None-Match: {etag}",), script),
        "pages across the archive": ([f"/articles/{s}/" for s in rng.sample(slugs, min(1000, len(slugs)))], (), script),
        "search": (searches, (), fresh),
    }
    runs = {kind: [] for kind in kinds}
    try:
        for paths, headers, lua in kinds.values():  # every worker loads jieba at its first search
            wrk(server.url, paths, 2, args.connections, lua, headers, check=False)
        for _ in range(args.rounds):  # interleaved, so that machine noise hits every kind alike
            for kind, (paths, headers, lua) in kinds.items():
                runs[kind].append(wrk(server.url, paths, args.duration, args.connections, lua, headers))
        figures["rss_mb"] = max(worker_rss(server.process.pid).values())
    finally:
        server.stop()
    figures["wrk"] = {
        kind: {
            "requests_per_second": statistics.median(r["requests_per_second"] for r in results),
            "p99_ms": statistics.median(r["p99_ms"] for r in results),
        }
        for kind, results in runs.items()
    }
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bulletins", type=int, default=10_000)
    add_run_arguments(parser)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--startup-rounds", type=int, default=9, help="interleaved starts of each kind")
    parser.add_argument("--keep", metavar="DIR", help="keep the archive in DIR and reuse it")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: make load installs it, or apt-get install -y wrk")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        archive = Path(args.keep or tmp) / f"archive-{args.bulletins}"
        if not archive.exists():
            write_archive(archive, args.bulletins)
        sites = {
            "3 bulletins": measure("seed", ROOT / "content", args, tmp),
            f"{args.bulletins:,} bulletins": measure("archive", archive, args, tmp),
        }
    report(sites, args)


def report(sites, args):
    print(
        f"gunicorn, {args.workers} workers, {os.cpu_count()} cores; wrk {args.connections} connections, "
        f"{args.rounds} interleaved rounds of {args.duration} s; medians"
    )
    print()
    print("| site | static file | article page | page ÷ static | 304 | pages across the archive | search | its p99 |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for name, f in sites.items():
        w = {kind: v["requests_per_second"] for kind, v in f["wrk"].items()}
        print(
            f"| {name} | {w['static']:,.0f}/s | {w['page']:,.0f}/s | {w['page'] / w['static']:.2f} | {w['page 304']:,.0f}/s "
            f"| {w['pages across the archive']:,.0f}/s | {w['search']:,.0f}/s "
            f"| {f['wrk']['search']['p99_ms']:.0f} ms |"
        )
    print()
    print("| site | workers | bare Django first answer | site first answer (restart, nothing changed) | ratio | worker RSS |")
    print("| --- | ---: | ---: | ---: | ---: | ---: |")
    for name, f in sites.items():
        s = f["startup"]
        for n in sorted({1, args.workers}):
            print(
                f"| {name} | {n} | {s[f'bare {n}'] * 1000:.0f} ms | {s[f'site {n}'] * 1000:.0f} ms "
                f"| {s[f'site {n}'] / s[f'bare {n}']:.2f} | {f['rss_mb']:.1f} MB |"
            )
    small, large = sites.values()
    print()
    print(f"worker memory, archive ÷ 3 bulletins: {large['rss_mb'] / small['rss_mb']:.2f}")


if __name__ == "__main__":
    main()

"""A bounded load test of the real server on loopback: gunicorn under wrk.

    .venv/bin/python -m bench.load_test                 # 64 connections, 30 s each kind
    .venv/bin/python -m bench.load_test --duration 10

Serves the real content/ with gunicorn (as `make run` does) from a fresh database, then runs
wrk (Debian's package) against pages, searches and a static file in turn. Reports requests
per second, p99 latency, errors and non-2xx/304 answers, and each worker's memory 5 s into
the run and at its end. Traffic goes to 127.0.0.1 only and stops by itself.
"""

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote, urlencode

from bench.common import parse, save
from bulletins.testing.processes import Server  # (the same real server the tests start)

ROOT = Path(__file__).resolve().parent.parent

LUA = """
local paths = {}
for p in string.gmatch(os.getenv("WRK_PATHS"), "[^\\n]+") do paths[#paths + 1] = p end
local i = 0
request = function()
  i = (i % #paths) + 1
  return wrk.format("GET", paths[i])
end
"""
QUERIES = ["儿童主任", "重庆学校安全", "養老服務", "未保", "2.6亿元", "社会救助", "民政 会议", "工作"]


def kinds(server):
    html = urllib.request.urlopen(server.url + "/").read().decode()
    css = re.search(r'href="(/static/bulletins/site\.[0-9a-f]+\.css)"', html).group(1)
    articles = re.findall(r'href="(/articles/[^"]+/)"', html)
    return {
        "pages": ["/", *articles],
        "search": [f"/search/?{urlencode({'q': q})}" for q in QUERIES] + [f"/api/search?{urlencode({'q': q})}" for q in QUERIES],
        "static": [css],
    }


def worker_rss(master_pid):
    children = subprocess.run(["ps", "--ppid", str(master_pid), "-o", "pid="], capture_output=True, text=True).stdout.split()
    rss = {}
    for pid in children:
        status = Path(f"/proc/{pid}/status")
        if status.exists():
            rss[pid] = int(re.search(r"VmRSS:\s+(\d+)", status.read_text()).group(1)) / 1024
    return rss


def run_wrk(server, paths, duration, connections, lua):
    env = dict(os.environ, WRK_PATHS="\n".join(quote(p, safe="/?=&%") for p in paths))
    command = ["wrk", "-t", "2", "-c", str(connections), "-d", f"{duration}s", "--latency", "-s", str(lua), server.url]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True)
    time.sleep(5)
    early = worker_rss(server.process.pid)
    out = process.communicate(timeout=duration + 60)[0]
    late = worker_rss(server.process.pid)
    return out, early, late


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=30)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) * 2 + 1)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install -y wrk")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        shutil.copytree(ROOT / "content", tmp / "content")
        server = Server(tmp, tmp / "content", workers=args.workers)
        lua = tmp / "paths.lua"
        lua.write_text(LUA)
        results = {}
        try:
            time.sleep(2)
            for kind, paths in kinds(server).items():
                out, early, late = run_wrk(server, paths, args.duration, args.connections, lua)
                figures = parse(out)
                figures["worker_rss_mb_at_5s"] = {pid: round(v, 1) for pid, v in early.items()}
                figures["worker_rss_mb_at_end"] = {pid: round(v, 1) for pid, v in late.items()}
                growth = [late[pid] - early[pid] for pid in early if pid in late]
                figures["max_worker_growth_mb"] = round(max(growth), 1) if growth else None
                results[kind] = figures
        finally:
            server.stop()
    print(f"{args.connections} connections, {args.duration} s each, {args.workers} gunicorn workers on {os.cpu_count()} cores")
    print("| kind | requests/s | p99 | requests | non-2xx/3xx | socket errors | worker RSS growth 5 s → end |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for kind, f in results.items():
        print(
            f"| {kind} | {f['requests_per_second']:.0f} | {f['p99_ms']:.1f} ms | {f['requests']:,} | {f['non_2xx_3xx']} "
            f"| {f['socket_errors']} | {f['max_worker_growth_mb']} MB |"
        )
    save("load", results)


if __name__ == "__main__":
    main()

"""What `make run` does with slow clients, for each way it could serve: the comparison behind its choice.

    .venv/bin/python -m bench.slow_clients                   # 300 slow clients for 30 s each
    .venv/bin/python -m bench.slow_clients --clients 300 --hold 10 --duration 3

For each front, on the real content/ from a fresh database, with as many workers as `make run`:
- a reader's article page, one request after another with nothing else going on (usual latency);
- the same reader while --clients slow clients (a third idle, a third trickling their headers a
  byte a second, a third asking for pages they never read; tests/slow_clients.py) are held open
  for --hold seconds: how many of the reader's requests were answered, and their median and
  worst latency against the usual one;
- throughput (wrk, interleaved rounds) of the article page against a static file through the
  same front: the article page should stay within 10% of it.

The fronts: gunicorn's sync workers facing clients (what `make run` was), gunicorn's gthread
workers, and nginx in front of sync workers (deploy/run.py, what `make run` is now).
Traffic goes to 127.0.0.1 only, for a bounded time. Needs wrk and nginx (`make wrk nginx`).
"""

import argparse
import re
import shutil
import statistics
import sys
import tempfile
import urllib.request
from pathlib import Path

from bench.common import add_run_arguments, requests_per_second
from bulletins.testing.processes import Front, Server
from bulletins.testing.slow_clients import SlowClients, readers, usual_latency

ROOT = Path(__file__).resolve().parent.parent

FRONTS = {
    "gunicorn sync": lambda tmp, content, workers: Server(tmp, content, workers=workers),
    "gunicorn gthread": lambda tmp, content, workers: Server(tmp, content, workers=workers, args=("-k", "gthread", "--threads", "8")),
    "nginx + gunicorn sync": lambda tmp, content, workers: Front(tmp, content, workers=workers),
}


def measure(front, args):
    html = urllib.request.urlopen(front.url + "/").read().decode()
    css = re.search(r'href="(/static/bulletins/site\.[0-9a-f]+\.css)"', html).group(1)
    articles = re.findall(r'href="(/articles/[^"]+/)"', html)
    page = articles[0]
    usual = usual_latency(front.url, page)
    with SlowClients(front.url, args.clients, page=articles[-1]) as held:
        statuses, latencies = readers(front.url, page, args.hold)
        opened = held.opened
    rates = {"page": [], "static": []}
    for _ in range(args.rounds):
        for kind, path in (("page", page), ("static", css)):
            rates[kind].append(requests_per_second(front.url + path, args.duration, 16))
    return {
        "slow clients opened": opened,
        "reader answered": f"{sum(s == 200 for s in statuses)}/{len(statuses)}",
        "usual ms": round(usual * 1000, 1),
        "median ÷ usual": round(statistics.median(latencies) / usual, 1),
        "worst ÷ usual": round(max(latencies) / usual, 1),
        "page req/s": round(statistics.median(rates["page"])),
        "static req/s": round(statistics.median(rates["static"])),
        "page ÷ static": round(statistics.median(rates["page"]) / statistics.median(rates["static"]), 2),
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=300)
    parser.add_argument("--hold", type=int, default=30, help="seconds the slow clients are held open")
    add_run_arguments(parser)
    args = parser.parse_args()
    for tool in ("wrk", "nginx"):
        if not (shutil.which(tool) or shutil.which(tool, path="/usr/sbin")):
            sys.exit(f"{tool} is missing: make wrk nginx")
    results = {}
    for name, start in FRONTS.items():
        with tempfile.TemporaryDirectory() as tmp:
            tmp = Path(tmp)
            shutil.copytree(ROOT / "content", tmp / "content")
            front = start(tmp, tmp / "content", args.workers)
            try:
                results[name] = measure(front, args)
            finally:
                front.stop()
    columns = list(next(iter(results.values())))
    print(f"{args.clients} slow clients held {args.hold} s; {args.workers} workers; wrk 16 connections, {args.rounds}×{args.duration} s")
    print("| front | " + " | ".join(columns) + " |")
    print("| --- |" + " --- |" * len(columns))
    for name, figures in results.items():
        print(f"| {name} | " + " | ".join(str(figures[c]) for c in columns) + " |")


if __name__ == "__main__":
    main()

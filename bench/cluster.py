"""Throughput through nginx's front cache (`make run`) and with 1, 2 and 3 replicas, against
nginx serving the same page's bytes as a static file, for gzip, brotli and identity clients,
all in one run (interleaved rounds, so that machine noise hits each alike).

    .venv/bin/python -m bench.cluster
    .venv/bin/python -m bench.cluster --duration 3 --rounds 2

`make run` is the command itself, with its front cache and without it
(BULLETINS_FRONT_CACHE_SECONDS=0, every page answered by Python); the clusters are
deploy/run.py as `make cluster` starts it; all on the real content/. The static nginx serves
the article page's stored bytes from a folder: gzip_static for gzip, the stored brotli bytes
with their Content-Encoding for brotli. wrk asks for the article page, 32 connections.
Traffic goes to 127.0.0.1 only, for a bounded time.
"""

import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import tempfile
from pathlib import Path

from bench import plots
from bench.common import requests_per_second
from bulletins.testing.processes import Front, free_port

ROOT = Path(__file__).resolve().parent.parent

PAGE = "/articles/chongqing-yutong-shouhu/"
STATIC_NGINX = """
worker_processes auto;
pid {state}/nginx.pid;
error_log stderr warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {state}/client_body;
    proxy_temp_path {state}/proxy;
    fastcgi_temp_path {state}/fastcgi;
    uwsgi_temp_path {state}/uwsgi;
    scgi_temp_path {state}/scgi;
    default_type text/html;
    gzip_static on;
    server {{
        listen 127.0.0.1:{port};
        location / {{ root {root}; try_files $uri $uri/index.html =404; }}
        location /br/ {{
            root {root};
            try_files $uri $uri/index.html.br =404;
            types {{ }}
            default_type "text/html; charset=utf-8";
            add_header Content-Encoding br;
            add_header Vary Accept-Encoding;
        }}
    }}
}}
"""
ENCODINGS = {"gzip": "gzip", "brotli": "gzip, deflate, br", "identity": None}


def static_nginx(tmp, db):
    """nginx serving the page's stored bytes (plain and gzipped under its path, brotli under
    /br/ and its path)."""
    with sqlite3.connect(db) as connection:
        html, html_gzip, html_br = connection.execute(
            "SELECT html, html_gzip, html_br FROM bulletins_page JOIN bulletins_article ON bulletins_article.id = article_id "
            "WHERE slug = ?",
            (PAGE.split("/")[2],),
        ).fetchone()
    folder = tmp / "static" / PAGE.strip("/")
    folder.mkdir(parents=True)
    (folder / "index.html").write_bytes(html)
    (folder / "index.html.gz").write_bytes(html_gzip)
    brotli = tmp / "static" / "br" / PAGE.strip("/")
    brotli.mkdir(parents=True)
    (brotli / "index.html.br").write_bytes(html_br)
    state, port = tmp / "static-nginx", free_port()
    state.mkdir()
    config = state / "nginx.conf"
    config.write_text(STATIC_NGINX.format(state=state, port=port, root=tmp / "static"))
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    process = subprocess.Popen([nginx, "-p", str(state), "-c", str(config), "-e", "stderr", "-g", "daemon off;"])
    return process, f"http://127.0.0.1:{port}"


STATIC = "nginx, the page as a static file"
FRONTS = {
    "make run, front cache (1 s)": {"make": "run"},
    "make run, no front cache": {"make": "run", "BULLETINS_FRONT_CACHE_SECONDS": 0},
    "nginx + 2 replicas, front cache": {"replicas": 2},
    "nginx + 3 replicas, front cache": {"replicas": 3},
}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=5, help="seconds of each wrk run")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers per replica, as make cluster")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        tmp.chmod(0o755)  # nginx's workers run as nobody when it is started as root
        shutil.copytree(ROOT / "content", tmp / "content")
        fronts, targets, static = [], {}, None
        try:
            for name, options in FRONTS.items():
                folder = tmp / f"front-{len(fronts)}"
                folder.mkdir()
                fronts.append(Front(folder, tmp / "content", workers=args.workers, **options))
                targets[name] = fronts[-1].url
            static, targets[STATIC] = static_nginx(tmp, fronts[-1].data / "replica-1" / "bulletins.sqlite3")
            rates = measure(targets, args.rounds, args.duration)
        finally:
            for front in fronts:
                front.stop()
            if static is not None:
                static.terminate()
                static.wait()
    report(rates, targets, args)


def measure(targets, rounds, duration):
    """{(target, encoding): [requests/s a round]}, every kind in each round, after a warm-up."""
    paths = {name: dict.fromkeys(ENCODINGS, PAGE) for name in targets}
    paths[STATIC]["brotli"] = "/br" + PAGE
    runs = [(name, url, encoding, accept) for name, url in targets.items() for encoding, accept in ENCODINGS.items()]
    for name, url, encoding, accept in runs:  # warm: connections open, every worker's first answer aside
        requests_per_second(url + paths[name][encoding], 1, 32, strict=True, encoding=accept)
    rates = {(name, encoding): [] for name, _, encoding, _ in runs}
    for _ in range(rounds):
        for name, url, encoding, accept in runs:
            rates[name, encoding].append(requests_per_second(url + paths[name][encoding], duration, 32, strict=True, encoding=accept))
    return rates


def report(rates, targets, args):
    print(f"{os.cpu_count()} cores; {args.workers} workers a replica; wrk 32 connections, {args.rounds}×{args.duration} s, medians")
    print("| served by | " + " | ".join(f"{encoding}: requests/s | ÷ static" for encoding in ENCODINGS) + " |")
    print("| --- |" + " ---: | ---: |" * len(ENCODINGS))
    for name in targets:
        cells = []
        for encoding in ENCODINGS:
            median = statistics.median(rates[name, encoding])
            cells.append(f"{median:,.0f} | {median / statistics.median(rates[STATIC, encoding]):.2f}")
        print(f"| {name} | " + " | ".join(cells) + " |")
    for name in targets:
        for encoding in ENCODINGS if name != STATIC else ():
            ratios = [a / b for a, b in zip(rates[name, encoding], rates[STATIC, encoding], strict=True)]
            print(f"{name}, {encoding}: rounds ÷ static " + ", ".join(f"{r:.2f}" for r in ratios))
    plots.front_against_static(rates, targets, STATIC, ENCODINGS)


if __name__ == "__main__":
    main()

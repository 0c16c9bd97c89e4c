"""Throughput through nginx with 1, 2 and 3 replicas, against nginx serving the same page as a
static file, all in one run (interleaved rounds, so that machine noise hits each alike).

    .venv/bin/python bench/cluster.py
    .venv/bin/python bench/cluster.py --duration 3 --rounds 2

Each cluster is deploy/serve.py, as `make cluster` starts it, on the real content/; the static
nginx serves the article page's stored bytes (gzip_static) from a folder. wrk asks for the
article page with gzip, 32 connections. Traffic goes to 127.0.0.1 only, for a bounded time.
"""

import argparse
import os
import shutil
import sqlite3
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import requests_per_second  # noqa: E402
from tests.support import Front, free_port  # noqa: E402

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
    }}
}}
"""


def static_nginx(tmp, front):
    """nginx serving the page's stored bytes, gzipped and not, under the same path."""
    db = front.data / "replica-1" / "bulletins.sqlite3"
    with sqlite3.connect(db) as connection:
        html, html_gzip = connection.execute(
            "SELECT html, html_gzip FROM bulletins_page JOIN bulletins_article ON bulletins_article.id = article_id WHERE slug = ?",
            (PAGE.split("/")[2],),
        ).fetchone()
    folder = tmp / "static" / PAGE.strip("/")
    folder.mkdir(parents=True)
    (folder / "index.html").write_bytes(html)
    (folder / "index.html.gz").write_bytes(html_gzip)
    state, port = tmp / "static-nginx", free_port()
    state.mkdir()
    config = state / "nginx.conf"
    config.write_text(STATIC_NGINX.format(state=state, port=port, root=tmp / "static"))
    nginx = shutil.which("nginx") or "/usr/sbin/nginx"
    process = subprocess.Popen([nginx, "-p", str(state), "-c", str(config), "-e", "stderr", "-g", "daemon off;"])
    return process, f"http://127.0.0.1:{port}"


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
        fronts, targets = [], {}
        try:
            for replicas in (1, 2, 3):
                folder = tmp / f"cluster-{replicas}"
                folder.mkdir()
                fronts.append(Front(folder, tmp / "content", replicas=replicas, workers=args.workers))
                targets[f"nginx + {replicas} replica{'s' if replicas > 1 else ''}"] = fronts[-1].url
            static, targets["nginx, the page as a static file"] = static_nginx(tmp, fronts[0])
            for url in targets.values():
                requests_per_second(url + PAGE, 1, 32, strict=True)  # warm: every worker's first search aside, connections open
            rates = {name: [] for name in targets}
            for _ in range(args.rounds):
                for name, url in targets.items():
                    rates[name].append(requests_per_second(url + PAGE, args.duration, 32, strict=True))
        finally:
            for front in fronts:
                front.stop()
            if "static" in locals():
                static.terminate()
                static.wait()
    floor = statistics.median(rates["nginx, the page as a static file"])
    print(f"{os.cpu_count()} cores; {args.workers} workers a replica; wrk 32 connections, {args.rounds}×{args.duration} s, medians")
    print("| served by | article page, requests/s | ÷ nginx static |")
    print("| --- | ---: | ---: |")
    for name, values in rates.items():
        print(f"| {name} | {statistics.median(values):,.0f} | {statistics.median(values) / floor:.2f} |")


if __name__ == "__main__":
    main()

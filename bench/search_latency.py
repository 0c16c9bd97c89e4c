"""Search latency on a synthetic archive, as a ratio to the article page's latency.

    .venv/bin/python -m bench.search_latency                  # 10,000 bulletins
    .venv/bin/python -m bench.search_latency --bulletins 1000 10000

For each size: writes an archive (bench/archive.py), loads it with the real loader into a
fresh SQLite database and tantivy index, then, in one process and one minute, times search
pages, stored article pages and article pages opened from a result (?hl=) through Django's
test client, interleaved so that machine noise hits all alike. Nothing keeps answers: every
search is made afresh. Absolute times on shared machines are noise; the ratios of search to
article pages, and of the largest archive's search to the smallest's, are the figures to compare.
"""

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench import plots
from bench.archive import write_archive
from bench.common import save

ROOT = Path(__file__).resolve().parent.parent

QUERIES = [
    "儿童主任",
    "重庆学校安全",
    "未成年人保护",
    "社会救助",
    "养老服务体系",
    "養老服務",
    "未保",
    "低保",
    "兜住底",
    "扁平化协调",
    "2.6亿元",
    "80%乡镇",
    "民政 会议",
    '"分层分类的社会救助对象体系"',
    "深圳低保标准是多少",
    "工作",
    "不存在的词语组合",
    "深圳给孤儿的钱每月多少",
    "老人去哪里养老",
    "孩子上网吧有人管吗",
    "皮磊",
    "1365元",
]


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, round(q * (len(values) - 1)))]


def measure(rounds, per_query=False):
    """Runs inside the child process, against the archive's database."""
    import django

    django.setup()
    from django.test import Client

    from bulletins.models import Article, Section

    client = Client(HTTP_HOST="localhost")
    slugs = list(Article.objects.values_list("slug", flat=True))
    rng = random.Random(1)
    times = {"article": [], "article ?hl=": [], "search": []}
    by_query = {query: [] for query in QUERIES}
    for query in QUERIES:  # warm: jieba, OpenCC, the index's and SQLite's pages
        client.get("/search/", {"q": query})
    for _ in range(rounds):
        for query in QUERIES:
            start = time.perf_counter()
            assert client.get(f"/articles/{rng.choice(slugs)}/").status_code == 200
            times["article"].append(time.perf_counter() - start)
            start = time.perf_counter()
            assert client.get(f"/articles/{rng.choice(slugs)}/", {"hl": query}).status_code == 200
            times["article ?hl="].append(time.perf_counter() - start)
            start = time.perf_counter()
            assert client.get("/search/", {"q": query}).status_code == 200
            times["search"].append(time.perf_counter() - start)
            by_query[query].append(times["search"][-1])
    figures = {kind: {"median_ms": statistics.median(v) * 1000, "p95_ms": percentile(v, 0.95) * 1000} for kind, v in times.items()}
    figures["sections"] = Section.objects.count()
    if per_query:
        for query, values in by_query.items():
            print(f"{statistics.median(values) * 1000:8.1f} ms  {query}", file=sys.stderr)
    return figures


def run(bulletins, rounds, keep=None):
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(keep) / f"search-{bulletins}" if keep else Path(tmp)
        if not (tmp / "content").exists():
            write_archive(tmp / "content", bulletins)
        env = dict(
            os.environ,
            DJANGO_SETTINGS_MODULE="bulletins.settings",
            BULLETINS_CONTENT_DIR=str(tmp / "content"),
            BULLETINS_DATA_DIR=str(tmp / "var"),
            BULLETINS_DB_PATH=str(tmp / "bench.sqlite3"),
            PYTHONPATH=str(ROOT),
        )
        start = time.perf_counter()
        subprocess.run([sys.executable, "manage.py", "loadbulletins"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
        load_seconds = time.perf_counter() - start  # a kept archive loads nothing: only the digest check
        measuring = [sys.executable, "-m", "bench.search_latency", "--measure", str(rounds)]
        out = subprocess.run(measuring, cwd=ROOT, env=env, check=True, stdout=subprocess.PIPE, text=True).stdout
        figures = json.loads(out.strip().splitlines()[-1])
        db_mb = (tmp / "bench.sqlite3").stat().st_size / 2**20
        db_mb += sum(p.stat().st_size for p in (tmp / "bench.index").rglob("*") if p.is_file()) / 2**20
    figures.update(bulletins=bulletins, load_seconds=round(load_seconds, 1), database_mb=round(db_mb, 1))
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bulletins", type=int, nargs="+", default=[10_000])
    parser.add_argument("--rounds", type=int, default=20, help="times each query is run")
    parser.add_argument("--keep", metavar="DIR", help="keep the archives in DIR and reuse them on the next run")
    parser.add_argument("--per-query", action="store_true", help="also print each query's median")
    parser.add_argument("--measure", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.measure:
        print(json.dumps(measure(args.measure, os.environ.get("BENCH_PER_QUERY") == "1")))
        return
    if args.per_query:
        os.environ["BENCH_PER_QUERY"] = "1"
    print(
        "| bulletins | sections | load | db | stored page median / p95 | page with ?hl= median / p95 "
        "| search median / p95 | ÷ stored page p95 | ÷ page with ?hl= p95 | ÷ smallest archive's search p95 |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    results = []
    for bulletins in args.bulletins:
        f = run(bulletins, args.rounds, args.keep)
        results.append(f)
        a, h, s = f["article"], f["article ?hl="], f["search"]
        print(
            f"| {bulletins:,} | {f['sections']:,} | {f['load_seconds']} s | {f['database_mb']} MB "
            f"| {a['median_ms']:.1f} / {a['p95_ms']:.1f} ms | {h['median_ms']:.1f} / {h['p95_ms']:.1f} ms "
            f"| {s['median_ms']:.1f} / {s['p95_ms']:.1f} ms | {s['p95_ms'] / a['p95_ms']:.1f} | {s['p95_ms'] / h['p95_ms']:.1f} "
            f"| {s['p95_ms'] / results[0]['search']['p95_ms']:.2f} |",
            flush=True,
        )
    save("search_latency", results)
    if len(results) > 1:
        plots.latency_by_archive(results)


if __name__ == "__main__":
    main()

"""Search latency on a synthetic archive, as a ratio to the article page's latency.

    .venv/bin/python bench/search_latency.py                  # 10,000 and 100,000 sections
    .venv/bin/python bench/search_latency.py --sections 10000

For each size: writes an archive of Markdown files made from the bulletins' own sentences
(10 sections an article), loads it with the real loader into a fresh SQLite database, then,
in one process and one minute, times search queries and article pages through Django's test
client, interleaved so that machine noise hits both alike. Absolute times on shared machines
are noise; the ratio search / article page is the figure to compare.
"""

import argparse
import json
import os
import random
import re
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
QUERIES = [
    "儿童主任", "重庆学校安全", "未成年人保护", "社会救助", "养老服务体系", "養老服務", "未保", "低保",
    "兜住底", "扁平化协调", "2.6亿元", "80%乡镇", "民政 会议", '"分层分类的社会救助对象体系"', "深圳低保标准是多少",
    "工作", "不存在的词语组合",
]
REGIONS = ["江苏省", "重庆市", "深圳市", "广东省", "四川省"]


def sentences():
    text = "".join(p.read_text(encoding="utf-8").split("---", 2)[2] for p in sorted((ROOT / "content").glob("*.md")))
    text = text.replace("**", "")
    return [s for s in re.findall(r"[^。\n]+。", text) if len(s) > 8]


def write_archive(directory, sections, per_article=10, seed=7):
    rng = random.Random(seed)
    pool = sentences()
    directory.mkdir(parents=True)
    for n in range(sections // per_article):
        body = []
        for k in range(per_article):
            title = rng.choice(pool)[:12].strip("，、；：").rstrip("。") + "。"
            body.append(f"**{title}**" + "".join(rng.choice(pool) for _ in range(3)))
        front = f"---\ntitle: 合成公报第{n + 1}号：{rng.choice(pool)[:16]}\nslug: synthetic-{n + 1}\nregion: {rng.choice(REGIONS)}\norder: {n + 1}\n---\n\n"
        (directory / f"{n + 1:06d}.md").write_text(front + "\n\n".join(body) + "\n", encoding="utf-8")


def percentile(values, q):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q * (len(values) - 1))))]


def measure(rounds, per_query=False):
    """Runs inside the child process, against the archive's database."""
    import django

    django.setup()
    from django.test import Client

    from bulletins.models import Article

    client = Client(HTTP_HOST="localhost")
    slugs = list(Article.objects.values_list("slug", flat=True))
    rng = random.Random(1)
    times = {"article": [], "search": []}
    by_query = {query: [] for query in QUERIES}
    for query in QUERIES:  # warm: jieba, OpenCC, SQLite page cache
        client.get("/search/", {"q": query})
    for _ in range(rounds):
        for query in QUERIES:
            start = time.perf_counter()
            assert client.get(f"/articles/{rng.choice(slugs)}/").status_code == 200
            times["article"].append(time.perf_counter() - start)
            start = time.perf_counter()
            assert client.get("/search/", {"q": query}).status_code == 200
            times["search"].append(time.perf_counter() - start)
            by_query[query].append(times["search"][-1])
    figures = {kind: {"median_ms": statistics.median(v) * 1000, "p95_ms": percentile(v, 0.95) * 1000} for kind, v in times.items()}
    if per_query:
        for query, values in by_query.items():
            print(f"{statistics.median(values) * 1000:8.1f} ms  {query}", file=sys.stderr)
    return figures


def run(sections, rounds, keep=None):
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(keep) / str(sections) if keep else Path(tmp)
        if not (tmp / "content").exists():
            write_archive(tmp / "content", sections)
        env = dict(os.environ, DJANGO_SETTINGS_MODULE="bulletins.settings", BULLETINS_CONTENT_DIR=str(tmp / "content"),
                   BULLETINS_DB_PATH=str(tmp / "bench.sqlite3"), PYTHONPATH=str(ROOT))
        start = time.perf_counter()
        subprocess.run([sys.executable, "manage.py", "loadbulletins"], cwd=ROOT, env=env, check=True, stdout=subprocess.DEVNULL)
        load_seconds = time.perf_counter() - start  # a kept archive loads nothing: only the digest check
        out = subprocess.run([sys.executable, __file__, "--measure", str(rounds)], cwd=ROOT, env=env, check=True,
                             stdout=subprocess.PIPE, text=True).stdout
        figures = json.loads(out.strip().splitlines()[-1])
        db_mb = (tmp / "bench.sqlite3").stat().st_size / 2**20
    figures.update(sections=sections, load_seconds=round(load_seconds, 1), database_mb=round(db_mb, 1))
    figures["ratio_median"] = figures["search"]["median_ms"] / figures["article"]["median_ms"]
    figures["ratio_p95"] = figures["search"]["p95_ms"] / figures["article"]["p95_ms"]
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sections", type=int, nargs="+", default=[10_000, 100_000])
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
    print("| sections | load | db | article median / p95 | search median / p95 | ratio median / p95 |")
    print("| ---: | ---: | ---: | ---: | ---: | ---: |")
    results = []
    for sections in args.sections:
        f = run(sections, args.rounds, args.keep)
        results.append(f)
        print(f"| {sections:,} | {f['load_seconds']} s | {f['database_mb']} MB "
              f"| {f['article']['median_ms']:.1f} / {f['article']['p95_ms']:.1f} ms "
              f"| {f['search']['median_ms']:.1f} / {f['search']['p95_ms']:.1f} ms "
              f"| {f['ratio_median']:.2f} / {f['ratio_p95']:.2f} |", flush=True)
    out = ROOT / "bench" / "results"
    out.mkdir(exist_ok=True)
    (out / "search_latency.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    main()

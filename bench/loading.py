"""Loading an archive (database, stored pages, search index), against the floor of parsing its files alone.

    .venv/bin/python -m bench.loading                      # 10,000 bulletins
    .venv/bin/python -m bench.loading --bulletins 1000

Writes a synthetic archive (bench/archive.py) and, in one fresh process with a fresh database:
the full load from nothing with the real loader, then parsing every file once more with
nothing written (the floor). Then, each in a new process as a restart is: the start-up load with
nothing changed, and with one file changed. Times are seconds of wall clock; the ratio of load
to floor is the figure to compare between machines. Memory: the loading process's peak
resident set, against the same process before the load.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.archive import file_name, write_archive
from bench.common import save

ROOT = Path(__file__).resolve().parent.parent


def child(step):
    """Runs in a process of its own, on the archive's database; prints its figures as JSON."""
    import django

    django.setup()
    from django.conf import settings

    from bulletins import content, loader, startup

    if step == "full":
        import resource

        from django.core.management import call_command

        call_command("migrate", verbosity=0)
        before_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        start = time.perf_counter()
        report = loader.load_content()
        seconds = time.perf_counter() - start
        peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # before the floor's strings
        start = time.perf_counter()
        characters = 0
        for entry in loader.content_files(settings.BULLETINS_CONTENT_DIR):
            bulletin = content.parse_bulletin(entry.name, loader.read(entry))
            characters += sum(len(p) for section in bulletin.sections for p in section.paragraphs)
        floor = time.perf_counter() - start
        figures = {"floor": floor, "seconds": seconds, "characters": characters, "before_mb": before_mb, "peak_mb": peak_mb}
    else:
        start = time.perf_counter()
        report = startup.migrate_and_load()
        figures = {"seconds": time.perf_counter() - start}
    figures.update(loaded=len(report.loaded), rendered=report.rendered, unchanged=len(report.unchanged))
    print(json.dumps(figures))


def run_child(step, env):
    out = subprocess.run(
        [sys.executable, "-m", "bench.loading", "--child", step], cwd=ROOT, env=env, check=True, stdout=subprocess.PIPE, text=True
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def measure(count, tmp, keep=None):
    archive = Path(keep or tmp) / f"archive-{count}"
    if not archive.exists():
        write_archive(archive, count)
    data = tmp / f"data-{count}"
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="bulletins.settings",
        PYTHONPATH=str(ROOT),
        BULLETINS_CONTENT_DIR=str(archive),
        BULLETINS_DATA_DIR=str(data),
        BULLETINS_DB_PATH=str(data / "bench.sqlite3"),
    )
    figures = {"bulletins": count, "full": run_child("full", env), "unchanged": run_child("restart", env)}
    changed = archive / file_name(count // 2)
    original = changed.read_bytes()
    try:
        changed.write_bytes(original.replace("。".encode(), "；".encode(), 1))
        figures["one_changed"] = run_child("restart", env)
    finally:
        changed.write_bytes(original)
    return figures


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bulletins", type=int, nargs="+", default=[10_000])
    parser.add_argument("--keep", metavar="DIR", help="keep the archives in DIR and reuse them")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child)
        return
    print(
        "| bulletins | characters | parsing alone (floor) | full load | load ÷ floor | restart, nothing changed "
        "| restart, one file changed | loading process: before → peak |"
    )
    print("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for count in args.bulletins:
            f = measure(count, Path(tmp), args.keep)
            results.append(f)
            full, unchanged, one = f["full"], f["unchanged"], f["one_changed"]
            print(
                f"| {count:,} | {full['characters']:,} | {full['floor']:.1f} s | {full['seconds']:.1f} s "
                f"| {full['seconds'] / full['floor']:.2f} | {unchanged['seconds'] * 1000:.0f} ms "
                f"(loaded {unchanged['loaded']}, rendered {unchanged['rendered']}) | {one['seconds'] * 1000:.0f} ms "
                f"(loaded {one['loaded']}, rendered {one['rendered']}) | {full['before_mb']:.0f} → {full['peak_mb']:.0f} MB |",
                flush=True,
            )
    save("loading", results)


if __name__ == "__main__":
    main()

"""What the benchmarks share: wrk's runs and output, their arguments, and where results go."""

import json
import os
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"


def parse(out):
    """wrk's figures from its output."""

    def number(pattern, default=0.0):
        match = re.search(pattern, out)
        return float(match.group(1)) if match else default

    def ms(value, unit):
        return float(value) * {"us": 0.001, "ms": 1, "s": 1000}[unit]

    p99 = re.search(r"99%\s+([\d.]+)(us|ms|s)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "requests_per_second": number(r"Requests/sec:\s+([\d.]+)"),
        "p99_ms": ms(*p99.groups()) if p99 else None,
        "requests": int(number(r"(\d+) requests in")),
        "non_2xx_3xx": int(number(r"Non-2xx or 3xx responses: (\d+)")),
        "socket_errors": sum(int(n) for n in errors.groups()) if errors else 0,
    }


def requests_per_second(url, duration, connections, strict=False, encoding="gzip"):
    """wrk on one URL with `encoding` accepted (none: identity), 2 threads; strict: every answer
    a 2xx or 3xx, and no socket error."""
    accept = ["-H", f"Accept-Encoding: {encoding}"] if encoding else []
    out = subprocess.run(
        ["wrk", "-t", "2", "-c", str(connections), "-d", f"{duration}s", *accept, url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    figures = parse(out)
    if strict:
        assert figures["non_2xx_3xx"] == 0 and figures["socket_errors"] == 0, out
    return figures["requests_per_second"]


def add_run_arguments(parser, rounds=3):
    """--duration, --rounds and --workers, as the benchmarks that run wrk against gunicorn take them."""
    parser.add_argument("--duration", type=int, default=5, help="seconds of each wrk run")
    parser.add_argument("--rounds", type=int, default=rounds, help="interleaved rounds of every kind")
    parser.add_argument("--workers", type=int, default=(os.cpu_count() or 1) * 2 + 1, help="as make run")


def save(name, results):
    """bench/results/<name>.json: the figures of the last run, for the README's tables."""
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))

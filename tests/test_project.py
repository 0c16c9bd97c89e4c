"""The project itself: what it imports is what pyproject.toml declares; what an operator may
set is declared once, and the README says the same."""

import ast
import re
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from bulletins import conf

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def imported_modules(*folders):
    """The top-level modules that the code in `folders` imports, anywhere in a file."""
    names = set()
    for folder in folders:
        for path in (ROOT / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names.update(alias.name.split(".")[0] for alias in node.names)
                elif isinstance(node, ast.ImportFrom) and node.level == 0:
                    names.add(node.module.split(".")[0])
    return names


def declared(requirements):
    return {Requirement(r).name.lower().replace("_", "-") for r in requirements}


def undeclared(modules, requirements):
    """The distributions that provide `modules` but that `requirements` do not name."""
    local = {"bulletins", "tests", "bench", "deploy"}
    provides = packages_distributions()
    missing = set()
    for module in modules - set(sys.stdlib_module_names) - local:
        distributions = {d.lower().replace("_", "-") for d in provides.get(module, [module])}
        if not distributions & declared(requirements):
            missing |= distributions
    return missing


def test_the_site_imports_only_distributions_that_it_declares():
    assert undeclared(imported_modules("bulletins", "deploy"), PYPROJECT["project"]["dependencies"]) == set()


def test_the_tests_and_benchmarks_import_only_declared_distributions():
    extras = PYPROJECT["project"]["optional-dependencies"]
    assert undeclared(imported_modules("tests"), PYPROJECT["project"]["dependencies"] + extras["test"]) == set()
    assert undeclared(imported_modules("bench"), PYPROJECT["project"]["dependencies"] + extras["test"] + extras["bench"]) == set()


def test_a_distribution_left_undeclared_is_found():
    assert undeclared({"markupsafe", "json"}, ["Django"]) == {"markupsafe"}


def readme_settings_table():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    start = text.index("| variable | default | meaning |")
    return text[start : text.index("\n\n", start) + 1]


def test_the_readme_settings_table_is_the_declaration_written_out():
    assert readme_settings_table() == conf.table(), "paste the output of `python -m bulletins.conf` into the README"


def environment_reads(text):
    """The variables that code reads with os.environ.get(...), os.environ[...] or os.getenv(...)."""
    return set(re.findall(r"""(?:environ\.get\(|environ\[|getenv\()\s*["']([A-Z_]+)["']""", text))


def test_the_site_reads_no_environment_variable_that_is_not_declared():
    read = set()
    for path in [*(ROOT / "bulletins").rglob("*.py"), *(ROOT / "deploy").rglob("*.py"), ROOT / "gunicorn.conf.py"]:
        read |= environment_reads(path.read_text(encoding="utf-8"))
    assert read - {option.variable for option in conf.OPTIONS} == set()
    assert environment_reads('x = os.environ.get("A_B") or os.environ["C"]') == {"A_B", "C"}


def test_defaults_apply_when_a_variable_is_unset_or_empty():
    values = conf.read({"BULLETINS_DATA_DIR": "/srv/gongbao", "BULLETINS_SITE_URL": ""})
    assert values["BULLETINS_DB_PATH"] == Path("/srv/gongbao/bulletins.sqlite3")
    assert values["BULLETINS_INDEX_DIR"] == Path("/srv/gongbao/bulletins.index")
    assert values["BULLETINS_SITE_URL"] == ""
    assert values["BULLETINS_SHARED_MAX_AGE"] == values["BULLETINS_PAGE_MAX_AGE"] == 300


def test_values_are_parsed_by_kind_and_held_to_their_minimum():
    values = conf.read({"DJANGO_DEBUG": "Yes", "DJANGO_ALLOWED_HOSTS": " a.example , b.example,", "BULLETINS_INDEX_KEEP": "1"})
    assert values["DJANGO_DEBUG"] is True
    assert values["DJANGO_ALLOWED_HOSTS"] == ["a.example", "b.example"]
    assert values["BULLETINS_INDEX_KEEP"] == 2


def test_a_number_that_is_not_one_is_refused_with_the_variable_named():
    with pytest.raises(ValueError, match="BULLETINS_MAX_BLOCKS must be a whole number, not 'many'"):
        conf.read({"BULLETINS_MAX_BLOCKS": "many"})


SPELLED_URL = re.compile(r"""(?:["'`]|href=\\?["'])/(?:articles|api|search|regions|years|feeds|sitemap|robots|healthz)\b|href=["']/["']""")


def test_urls_are_spelled_in_urls_py_alone():
    spelled = []
    for path in [*(ROOT / "bulletins").rglob("*.py"), *(ROOT / "templates").glob("*.html"), *(ROOT / "static").rglob("*.js")]:
        # bulletins/testing/ asks the site for its addresses from outside, as a reader does.
        if path.name != "urls.py" and "migrations" not in path.parts and "testing" not in path.parts:
            spelled += [f"{path.name}: {m[0]}" for m in SPELLED_URL.finditer(path.read_text(encoding="utf-8"))]
    assert spelled == []
    assert SPELLED_URL.search('return f"/articles/{slug}/"') and SPELLED_URL.search('<a href="/">')


def pins(lock):
    """{name: version} of a lock file's `name==version` lines."""
    text = (ROOT / lock).read_text(encoding="utf-8")
    return {m[1].lower().replace("_", "-"): m[2] for m in re.finditer(r"^([A-Za-z0-9_.-]+)==([^\s\\]+)", text, re.M)}


@pytest.mark.parametrize(
    "lock, groups",
    [
        ("requirements.lock", ["dependencies"]),
        ("requirements-test.lock", ["dependencies", "test"]),
        ("requirements-bench.lock", ["dependencies", "test", "bench"]),
    ],
)
def test_each_lock_pins_every_declared_distribution_within_its_range(lock, groups):
    project = PYPROJECT["project"]
    requirements = [r for g in groups for r in (project[g] if g == "dependencies" else project["optional-dependencies"][g])]
    pinned = pins(lock)
    for requirement in map(Requirement, requirements):
        name = requirement.name.lower().replace("_", "-")
        assert name in pinned, f"{lock} does not pin {name}: make lock"
        assert requirement.specifier.contains(pinned[name]), f"{lock} pins {name}=={pinned[name]}, outside {requirement}: make lock"
    assert "--hash=sha256:" in (ROOT / lock).read_text(encoding="utf-8")


PO = ROOT / "locale" / "zh_Hant" / "LC_MESSAGES" / "django.po"
PO_ENTRY = re.compile(r'^msgid "((?:[^"\\]|\\.)*)"\nmsgstr "((?:[^"\\]|\\.)*)"$', re.M)


def test_the_traditional_catalogue_holds_every_word_of_the_templates_and_no_other():
    """The site's own words on a traditional page come from locale/zh_Hant, written for it
    (issue 23): a word the templates gained is missing there until someone writes it."""
    import gettext

    def unescape(text):
        return text.replace('\\"', '"').replace("\\\\", "\\")

    entries = {unescape(msgid): unescape(msgstr) for msgid, msgstr in PO_ENTRY.findall(PO.read_text(encoding="utf-8")) if msgid}
    used = set()
    for path in (ROOT / "templates").glob("*.html"):
        used |= set(re.findall(r"_\('([^']*)'\)", path.read_text(encoding="utf-8")))
    for path in (ROOT / "bulletins").glob("*.py"):  # the words Python says, as gettext("…")
        used |= set(re.findall(r'\bgettext\("([^"]*)"\)', path.read_text(encoding="utf-8")))
    assert sorted(used - set(entries)) == [] and sorted(set(entries) - used) == []
    assert all(entries.values())
    with open(PO.with_suffix(".mo"), "rb") as compiled:  # compiled from this .po: msgfmt -o django.mo django.po
        catalogue = gettext.GNUTranslations(compiled)
    assert {msgid: catalogue.gettext(msgid) for msgid in entries} == entries


def test_no_module_imports_urls_py_which_imports_the_views():
    """urls.py imports the views, which import most of the site: a module that imports urls.py
    makes a circle (issue 24). What a module needs of the URLs, routes.py reads at call time."""
    importers = []
    for path in (ROOT / "bulletins").rglob("*.py"):
        if path.name == "urls.py" or "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom):
                names = [node.module or ""] + [f"{node.module or ''}.{alias.name}".lstrip(".") for alias in node.names]
                if any(name.split(".")[-1] == "urls" and (node.level or name.startswith("bulletins")) for name in names):
                    importers.append(str(path.relative_to(ROOT)))
            elif isinstance(node, ast.Import) and any(alias.name == "bulletins.urls" for alias in node.names):
                importers.append(str(path.relative_to(ROOT)))
    assert importers == []

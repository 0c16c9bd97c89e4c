"""The project itself: what it imports is what pyproject.toml declares."""

import ast
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

from packaging.requirements import Requirement

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
    requirements = PYPROJECT["project"]["dependencies"] + PYPROJECT["project"]["optional-dependencies"]["test"]
    assert undeclared(imported_modules("tests", "bench"), requirements) == set()


def test_a_distribution_left_undeclared_is_found():
    assert undeclared({"markupsafe", "json"}, ["Django"]) == {"markupsafe"}

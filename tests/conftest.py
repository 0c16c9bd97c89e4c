import inspect
import os
import re
import shutil

import pytest
from django.core.management import call_command
from django.test import override_settings
from hypothesis import settings

from .support import CONTENT


@pytest.fixture(scope="session", autouse=True)
def collected_static():
    """Hashed, compressed static files, as `make run` serves them."""
    call_command("collectstatic", interactive=False, verbosity=0)


@pytest.fixture(scope="session", autouse=True)
def search_index_dir(tmp_path_factory):
    """The test database's search index, apart from the one var/ keeps for `make run`.

    Every version is kept: a test's load is rolled back with its transaction, and the index
    version that the database names again must still be there.
    """
    with override_settings(BULLETINS_INDEX_DIR=tmp_path_factory.mktemp("index"), BULLETINS_INDEX_KEEP=10**6):
        yield


@pytest.fixture(scope="session")
def django_db_setup(search_index_dir, django_db_setup, django_db_blocker):
    """The test database holds what content/ holds, loaded by the real loader."""
    from bulletins.loader import load_content

    with django_db_blocker.unblock():
        report = load_content(CONTENT)
    assert not report.refused, report.refused


@pytest.fixture
def content_dir(tmp_path):
    """A copy of the real content/ that a test may break."""
    directory = tmp_path / "content"
    shutil.copytree(CONTENT, directory)
    return directory


# CI runs the same examples every time, so that a landing never hangs on a lucky draw;
# locally hypothesis keeps exploring new ones.
settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")


# What puts a test in a lane other than the in-process one: nginx in front of replicas, or a
# process of its own (a gunicorn, manage.py, a loader, python -c). Read from the test's source
# and its module's helpers, so a new test lands in its lane without being told.
STARTS_A_FRONT = re.compile(r"\bFront\(")
STARTS_A_PROCESS = re.compile(r"\b(?:Server\(|subprocess\.|run_python\(|site_env\()")


def pytest_collection_modifyitems(items):
    for item in items:
        if item.get_closest_marker("browser"):
            continue
        source = inspect.getsource(item.function)
        if STARTS_A_FRONT.search(source):
            item.add_marker(pytest.mark.front)
        elif STARTS_A_PROCESS.search(source):
            item.add_marker(pytest.mark.processes)

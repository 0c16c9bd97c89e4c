"""bulletins.loader: what a load publishes, keeps, refuses and removes, on real files."""

import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
import threading
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from bench.archive import write_archive
from bulletins import loader
from bulletins.loader import check_content, load_content
from bulletins.models import Article, ContentState, Section
from bulletins.search import index
from bulletins.search.query import parse, places_query
from bulletins.testing.processes import Server, children, process_state, site_env

from .support import CONTENT, FIXTURES, ROOT, run_python

pytestmark = pytest.mark.django_db

JIANGSU = "01-jiangsu-social-assistance-2023.md"


def test_startup_load_publishes_the_three_bulletins():
    assert list(Article.objects.values_list("slug", flat=True)) == [
        "jiangsu-social-assistance-2023",
        "chongqing-yutong-shouhu",
        "shenzhen-civil-affairs-2023",
    ]
    assert Section.objects.filter(article__slug="chongqing-yutong-shouhu").titled().count() == 9
    assert ContentState.current().article_count == 3


def test_unchanged_files_are_not_parsed_again(content_dir):
    report = load_content(content_dir)
    assert report.unchanged == sorted(p.name for p in CONTENT.glob("*.md"))
    assert report.loaded == [] and report.refused == []


def test_changed_file_is_reloaded_and_changes_the_version(content_dir):
    before = ContentState.current().version
    path = content_dir / JIANGSU
    path.write_text(path.read_text(encoding="utf-8").replace("赵庭朴出席会议并讲话", "赵庭朴出席会议并作讲话"), encoding="utf-8")
    report = load_content(content_dir)
    assert report.loaded == [JIANGSU]
    assert "并作讲话" in Section.objects.get(article__slug="jiangsu-social-assistance-2023", anchor="lead").text
    assert ContentState.current().version != before


def test_removed_file_unpublishes_its_article(content_dir):
    (content_dir / JIANGSU).unlink()
    report = load_content(content_dir)
    assert report.removed == [JIANGSU]
    assert not Article.objects.filter(slug="jiangsu-social-assistance-2023").exists()
    assert not Section.objects.filter(article__source_path=JIANGSU).exists()
    assert ContentState.current().article_count == 2


@pytest.mark.parametrize(
    "case",
    [
        "broken-yaml",
        "missing-title",
        "empty-body",
        "unknown-key",
        "invalid-utf8",
        "no-front-matter",
        "impossible-date",
        "order-out-of-range",
        "key-twice",
        "control-character",
    ],
)
def test_broken_file_keeps_its_last_good_version_and_the_others(content_dir, case):
    before = {a.slug: a.source_hash for a in Article.objects.all()}
    shutil.copy(FIXTURES / "bad" / f"{case}.md", content_dir / JIANGSU)
    report = load_content(content_dir)
    assert [error.path for error in report.refused] == [JIANGSU]
    assert {a.slug: a.source_hash for a in Article.objects.all()} == before
    assert Article.objects.get(slug="jiangsu-social-assistance-2023").title == "江苏省召开2023年全省社会救助工作会议"


def test_an_unreadable_file_is_refused_and_the_rest_published(content_dir):
    (content_dir / "04-new.md").write_bytes((content_dir / JIANGSU).read_bytes().replace(b"jiangsu-social", b"new-social"))
    os.chmod(content_dir / "04-new.md", 0)
    if os.access(content_dir / "04-new.md", os.R_OK):
        pytest.skip("this user reads any file (root)")
    report = load_content(content_dir)
    assert [str(e) for e in report.refused] == ["04-new.md:1: cannot be read: Permission denied"]


def test_a_file_deleted_while_the_load_runs_is_refused_and_the_rest_published(content_dir):
    path = content_dir / "04-new.md"
    path.write_bytes((content_dir / JIANGSU).read_bytes().replace(b"jiangsu-social", b"new-social"))
    other = content_dir / JIANGSU
    other.write_text(other.read_text(encoding="utf-8").replace("赵庭朴", "孙廷朴"), encoding="utf-8")
    with edited_while_read(path, lambda n: path.unlink()):  # listed, then gone before it is read
        report = load_content(content_dir)
    assert [str(e) for e in report.refused] == ["04-new.md:1: cannot be read: No such file or directory"]
    assert report.loaded == [JIANGSU]


def test_a_name_that_is_no_file_is_not_read(content_dir):
    (content_dir / "04-dangling.md").symlink_to(content_dir / "gone.md")  # listed, never readable
    (content_dir / "05-dir.md").mkdir()
    report = load_content(content_dir)
    assert report.refused == [] and Article.objects.count() == 3  # neither is a file: neither is read


def test_a_file_name_that_is_not_utf8_is_refused_and_the_rest_published(content_dir):
    name = os.fsdecode(b"04-\xff\xfe.md")
    shutil.copy(CONTENT / JIANGSU, content_dir / name)
    path = content_dir / JIANGSU
    path.write_text(path.read_text(encoding="utf-8").replace("赵庭朴", "孙廷朴"), encoding="utf-8")
    report = load_content(content_dir)
    assert [str(e) for e in report.refused] == ["04-\ufffd\ufffd.md:1: the file name is not UTF-8: rename the file"]
    assert report.loaded == [JIANGSU]


def test_a_link_to_a_file_outside_content_is_refused(content_dir, tmp_path):
    outside = tmp_path / "outside.md"
    outside.write_bytes((CONTENT / JIANGSU).read_bytes().replace(b"jiangsu-social", b"outside-social"))
    (content_dir / "04-link.md").symlink_to(outside)
    report = load_content(content_dir)
    assert [str(e) for e in report.refused] == ["04-link.md:1: links to a file outside the content folder"]
    assert not Article.objects.filter(slug="outside-social-assistance-2023").exists()


def test_a_file_over_the_size_limit_is_refused(content_dir, settings):
    settings.BULLETINS_MAX_FILE_BYTES = 3000
    with open(content_dir / "02-chongqing-yutong-shouhu.md", "a", encoding="utf-8") as handle:
        handle.write("\n新增的一段。\n")  # changed, so read again
    report = load_content(content_dir)
    assert [e.path for e in report.refused] == ["02-chongqing-yutong-shouhu.md"]
    assert "over the limit of 3,000 (BULLETINS_MAX_FILE_BYTES)" in report.refused[0].message
    assert Article.objects.count() == 3  # its last good version stays


def test_a_file_that_parses_past_the_time_limit_is_refused_and_the_rest_published(content_dir, settings):
    """Issue 22: within every shape bound, blocks of 499 brackets keep Markdown's link parsing
    busy for minutes (2 MiB of them: over two minutes on a 2-core machine), holding the load."""
    import time

    settings.BULLETINS_PARSE_SECONDS = 1
    blocks = "\n\n".join(["[" * 499 + "援助" * 50] * 2400)
    (content_dir / "04-brackets.md").write_text(f"---\ntitle: 方括号\nslug: brackets\n---\n\n{blocks}\n", encoding="utf-8")
    innocent = (content_dir / JIANGSU).read_text(encoding="utf-8").replace("jiangsu-social", "innocent-social")
    (content_dir / "05-innocent.md").write_text(innocent, encoding="utf-8")
    started = time.monotonic()
    report = load_content(content_dir)
    assert time.monotonic() - started < 60  # the file's parse was stopped, not waited for
    assert [str(e) for e in report.refused] == ["04-brackets.md:1: takes more than 1 s to parse (BULLETINS_PARSE_SECONDS): simplify it"]
    assert report.loaded == ["05-innocent.md"] and Article.objects.filter(slug="innocent-social-assistance-2023").exists()
    assert [str(e) for e in check_content(content_dir)] == [str(e) for e in report.refused]


def test_an_empty_content_folder_unpublishes_nothing_unless_allowed(tmp_path, settings):
    from django.core.exceptions import ImproperlyConfigured

    (tmp_path / "empty").mkdir()
    with pytest.raises(ImproperlyConfigured, match="holds no bulletin; nothing was changed"):
        load_content(tmp_path / "empty")
    assert Article.objects.count() == 3
    settings.BULLETINS_ALLOW_EMPTY = True
    assert len(load_content(tmp_path / "empty").removed) == 3 and Article.objects.count() == 0


def test_check_refuses_what_the_load_refuses(content_dir, tmp_path):
    (content_dir / "04-link.md").symlink_to(CONTENT / JIANGSU)  # inside the repository, outside this folder
    shutil.copy(FIXTURES / "bad" / "impossible-date.md", content_dir / "05-date.md")
    assert [str(p) for p in check_content(content_dir)] == [str(e) for e in load_content(content_dir).refused]


def test_missing_content_directory_unpublishes_nothing(tmp_path):
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured, match="does not exist"):
        load_content(tmp_path / "no-such-folder")
    assert Article.objects.count() == 3


def test_new_broken_file_is_refused_and_the_rest_published(content_dir):
    shutil.copy(FIXTURES / "bad" / "unknown-key.md", content_dir / "04-unknown-key.md")
    report = load_content(content_dir)
    assert [str(error) for error in report.refused] == [
        "04-unknown-key.md:4: unknown front-matter key 'autor' (known keys: title, slug, region, source, byline, order, date, added)"
    ]
    assert Article.objects.count() == 3


def test_duplicate_slug_is_refused_and_the_owner_stays(content_dir):
    shutil.copy(FIXTURES / "bad" / "duplicate-slug.md", content_dir / "00-duplicate.md")
    report = load_content(content_dir)
    assert [str(error) for error in report.refused] == [
        f"00-duplicate.md:3: slug 'jiangsu-social-assistance-2023' is already used by {JIANGSU}"
    ]
    assert Article.objects.get(slug="jiangsu-social-assistance-2023").source_path == JIANGSU


def test_two_files_may_swap_slugs_in_one_load(content_dir):
    first, second = content_dir / JIANGSU, content_dir / "03-shenzhen-civil-affairs-2023.md"
    a, b = first.read_text(encoding="utf-8"), second.read_text(encoding="utf-8")
    first.write_text(a.replace("slug: jiangsu-social-assistance-2023", "slug: shenzhen-civil-affairs-2023"), encoding="utf-8")
    second.write_text(b.replace("slug: shenzhen-civil-affairs-2023", "slug: jiangsu-social-assistance-2023"), encoding="utf-8")
    report = load_content(content_dir)
    assert report.refused == []
    assert Article.objects.get(slug="shenzhen-civil-affairs-2023").source_path == JIANGSU


def test_a_new_file_may_take_the_old_slug_of_another_in_one_load(content_dir):
    first = content_dir / JIANGSU
    text = first.read_text(encoding="utf-8")
    first.write_text(text.replace("slug: jiangsu-social-assistance-2023", "slug: jiangsu-2023"), encoding="utf-8")
    (content_dir / "00-new.md").write_text(text.replace("江苏省召开", "新的"), encoding="utf-8")
    report = load_content(content_dir)
    assert report.refused == [] and sorted(report.loaded) == ["00-new.md", JIANGSU]
    assert Article.objects.get(slug="jiangsu-social-assistance-2023").source_path == "00-new.md"
    assert Article.objects.get(slug="jiangsu-2023").source_path == JIANGSU


def test_a_file_refused_for_its_new_slug_keeps_its_old_one_and_the_rest_is_published(content_dir):
    """Issue 22: A takes C's slug (refused: C holds it), a new file takes A's current slug (also
    refused: A's last good version still holds it), and an innocent new file is published."""
    first = content_dir / JIANGSU
    text = first.read_text(encoding="utf-8")
    first.write_text(text.replace("slug: jiangsu-social-assistance-2023", "slug: chongqing-yutong-shouhu"), encoding="utf-8")
    (content_dir / "04-takes-jiangsu.md").write_text(text.replace("江苏省召开", "冒名的"), encoding="utf-8")
    (content_dir / "05-innocent.md").write_text("---\ntitle: 无辜的一篇\nslug: innocent\n---\n\n正文。\n", encoding="utf-8")
    report = load_content(content_dir)
    assert sorted(str(error) for error in report.refused) == [
        f"{JIANGSU}:3: slug 'chongqing-yutong-shouhu' is already used by 02-chongqing-yutong-shouhu.md",
        f"04-takes-jiangsu.md:3: slug 'jiangsu-social-assistance-2023' is already used by {JIANGSU}",
    ]
    assert report.loaded == ["05-innocent.md"]
    assert Article.objects.get(slug="jiangsu-social-assistance-2023").source_path == JIANGSU
    assert Article.objects.filter(slug="innocent").exists()


def test_load_is_one_transaction(content_dir):
    """A database failure half-way through a load leaves the previous content whole."""
    from django.db import DatabaseError, connection

    for name in (JIANGSU, "03-shenzhen-civil-affairs-2023.md"):
        path = content_dir / name
        path.write_text(path.read_text(encoding="utf-8") + "\n新增一段。\n", encoding="utf-8")
    with connection.cursor() as cursor:  # a real failure, at the second file's write
        cursor.execute(
            "CREATE TEMP TRIGGER fail_second_write BEFORE UPDATE ON bulletins_article "
            "WHEN NEW.source_path = '03-shenzhen-civil-affairs-2023.md' BEGIN SELECT RAISE(ABORT, 'disk full'); END"
        )
    with pytest.raises(DatabaseError, match="disk full"):
        load_content(content_dir)
    assert not Section.objects.filter(text__contains="新增一段").exists()


@contextmanager
def edited_while_read(path, edit):
    """Calls edit(n) just before the n-th time the process opens `path`, as an editor might;
    gives [how many times it was opened]. Files are parsed in this process meanwhile
    (BULLETINS_PARSE_SECONDS=0), where the hook sees them."""
    opened, armed = [0], [True]

    def hook(event, args):
        if armed[0] and event == "open" and isinstance(args[0], (str, os.PathLike)) and os.fspath(args[0]) == str(path):
            armed[0] = False  # the edit opens the file too
            opened[0] += 1
            edit(opened[0])
            armed[0] = True

    sys.addaudithook(hook)  # for the rest of the process: disarmed below
    try:
        with override_settings(BULLETINS_PARSE_SECONDS=0):
            yield opened
    finally:
        armed[0] = False


def test_a_changed_file_is_parsed_once_and_published_as_that_parse_read_it(content_dir):
    """A load reads a changed file twice: its digest against the published one, then its one
    parse, whose bulletin waits on disk until it is written (it was parsed again to be
    written, and an edit in between rolled the whole load back). An edit after the parse is
    published whole by the next load; one before it, whole by this one."""
    path = content_dir / JIANGSU
    original = path.read_text(encoding="utf-8")
    path.write_text(original.replace("出席会议并讲话", "出席会议并作讲话"), encoding="utf-8")
    edited = original.replace("出席会议并讲话", "出席会议并发表讲话")
    with edited_while_read(path, lambda n: n == 2 and path.write_text(edited, encoding="utf-8")) as opened:
        report = load_content(content_dir)
    assert opened == [2] and report.loaded == [JIANGSU]
    assert Section.objects.filter(article__source_path=JIANGSU, text__contains="出席会议并发表讲话").exists()  # the version parsed

    assert load_content(content_dir).unchanged == sorted(os.listdir(content_dir))  # its new stat noted, not parsed again

    path.write_text(original, encoding="utf-8")
    broken = (FIXTURES / "bad" / "missing-title.md").read_text(encoding="utf-8")
    with edited_while_read(path, lambda n: n == 2 and path.write_text(broken, encoding="utf-8")):
        report = load_content(content_dir)
    assert [(error.path, error.line) for error in report.refused] == [(JIANGSU, 2)]  # no title; the last good version stays
    assert Section.objects.filter(article__source_path=JIANGSU, text__contains="出席会议并发表讲话").exists()


def test_check_lists_every_problem_without_the_database(tmp_path):
    for case in ("broken-yaml", "unknown-key", "duplicate-slug"):
        shutil.copy(FIXTURES / "bad" / f"{case}.md", tmp_path / f"{case}.md")
    shutil.copy(CONTENT / JIANGSU, tmp_path / JIANGSU)
    problems = [str(p) for p in check_content(tmp_path)]
    assert problems == [
        "broken-yaml.md:4: front matter is not valid YAML: did not find expected ',' or ']'",
        f"duplicate-slug.md:3: slug 'jiangsu-social-assistance-2023' is already used by {JIANGSU}",
        "unknown-key.md:4: unknown front-matter key 'autor' (known keys: title, slug, region, source, byline, order, date, added)",
    ]


def test_loadbulletins_check_exits_non_zero_naming_each_file(tmp_path, settings):
    shutil.copy(FIXTURES / "bad" / "empty-body.md", tmp_path / "empty-body.md")
    settings.BULLETINS_CONTENT_DIR = tmp_path
    with pytest.raises(CommandError, match=r"empty-body.md:6: the body is empty"):
        call_command("loadbulletins", "--check")


def test_loadbulletins_check_passes_on_the_real_content(capsys):
    call_command("loadbulletins", "--check")
    assert "All bulletins are valid." in capsys.readouterr().out


def test_loadbulletins_command_line_check_exit_code(tmp_path):
    shutil.copy(FIXTURES / "bad" / "missing-title.md", tmp_path / "missing-title.md")
    env = site_env(tmp_path, BULLETINS_CONTENT_DIR=tmp_path)
    result = subprocess.run([sys.executable, "manage.py", "loadbulletins", "--check"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode != 0
    assert "missing-title.md:2: front matter needs a non-empty 'title'" in result.stderr


COUNT = textwrap.dedent(
    """
    import bulletins.wsgi
    from bulletins.models import Article, Section
    print(Article.objects.count(), Section.objects.count())
    """
)


def test_starting_the_site_loads_content_with_no_manual_step(tmp_path):
    result = run_python(COUNT, site_env(tmp_path))
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1] == "3 13"


def test_a_load_removes_the_spool_of_a_load_that_was_killed_and_keeps_a_live_ones(content_dir, settings):
    parent = Path(settings.BULLETINS_INDEX_DIR).parent
    dead, live = parent / "load-4194305-x", parent / f"load-{os.getpid()}-y"  # past Linux's highest pid; this process
    for folder in (dead, live):
        folder.mkdir()
        (folder / "0.pickle").write_bytes(b"parsed")
    try:
        (content_dir / JIANGSU).write_text((content_dir / JIANGSU).read_text(encoding="utf-8") + "\n新增一段。\n", encoding="utf-8")
        assert load_content(content_dir).loaded == [JIANGSU]
        assert not dead.exists() and live.exists()
        assert not [folder for folder in parent.glob(f"load-{os.getpid()}-*") if folder != live]  # its own, removed after
    finally:
        shutil.rmtree(live, ignore_errors=True)


def test_processes_starting_at_once_on_a_fresh_database_load_once(tmp_path, content_dir):
    """Four processes of the site and a gunicorn of four workers start together on a fresh
    database: one of them loads content/ (under the lock), and every other finds it loaded."""
    env = site_env(tmp_path, BULLETINS_CONTENT_DIR=content_dir)
    processes = [
        subprocess.Popen([sys.executable, "-c", COUNT], env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(4)
    ]
    server = Server(tmp_path, content_dir, workers=4)
    try:
        outputs = [process.communicate(timeout=120) for process in processes]
        # The gunicorn's master, if it loaded, loaded before it forked; then a worker checks.
        server.wait_until(lambda: server.output().count("content load:") >= 1, "a worker to check content/")
        assert server.get("/healthz")[0] == 200
        logs = [*(out + err for out, err in outputs), server.output()]
    finally:
        server.stop()
    assert [process.returncode for process in processes] == [0] * 4, [err for _, err in outputs]
    assert [out.splitlines()[-1] for out, _ in outputs] == ["3 13"] * 4
    assert sum(log.count("content load: loaded 3") for log in logs) == 1, logs
    assert all("Traceback" not in log for log in logs)


def test_runserver_serves_the_content_with_no_manual_step(tmp_path):
    from bulletins.testing.processes import free_port

    port = free_port()
    env = site_env(tmp_path, DJANGO_DEBUG=1)
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", "--noreload", f"127.0.0.1:{port}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        import time
        import urllib.request

        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/articles/chongqing-yutong-shouhu/", timeout=5) as r:
                    assert "扁平化协调" in r.read().decode()
                    break
            except OSError as error:
                if server.poll() is not None or time.monotonic() > deadline:
                    log = server.stdout.read() if server.poll() is not None else ""
                    raise AssertionError(f"runserver did not answer:\n{log}") from error
                time.sleep(0.2)
    finally:
        server.terminate()
        server.wait(timeout=30)


RESTART = textwrap.dedent(
    """
    import threading
    import bulletins.wsgi  # a restart: the database already publishes content/
    from bulletins.models import Article
    print("=", isinstance(bulletins.wsgi.startup, threading.Thread))  # serving at once, checking aside
    bulletins.wsgi.startup.join(60)
    print("=", Article.objects.get(slug="jiangsu-social-assistance-2023").title)
    """
)


def test_a_restart_serves_at_once_and_loads_changes_in_the_background(tmp_path, content_dir):
    env = site_env(tmp_path, BULLETINS_CONTENT_DIR=content_dir)
    assert run_python("import bulletins.wsgi", env).returncode == 0
    path = content_dir / "01-jiangsu-social-assistance-2023.md"
    path.write_text(path.read_text(encoding="utf-8").replace("title: 江苏省召开", "title: 江苏召开"), encoding="utf-8")
    result = run_python(RESTART, env)
    assert result.returncode == 0, result.stderr
    printed = [line for line in result.stdout.splitlines() if line.startswith("= ")]  # not the log's
    assert printed == ["= True", "= 江苏召开2023年全省社会救助工作会议"]


def test_a_background_check_waits_for_a_load_in_another_process_and_then_checks(tmp_path, content_dir):
    env = site_env(tmp_path, BULLETINS_CONTENT_DIR=content_dir)
    assert run_python("import bulletins.wsgi", env).returncode == 0
    holder_code = textwrap.dedent(
        """
        import django
        django.setup()
        from bulletins.startup import exclusive_lock
        with exclusive_lock():
            print("held", flush=True)
            input()
        """
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", holder_code], env=env, cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    assert holder.stdout.readline().strip() == "held"
    path = content_dir / JIANGSU
    path.write_text(path.read_text(encoding="utf-8").replace("赵庭朴", "孙廷朴"), encoding="utf-8")
    checker = subprocess.Popen(
        [sys.executable, "-c", "import django; django.setup()\nfrom bulletins.startup import load_in_background\nload_in_background()"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert "another process is loading content" in checker.stdout.readline() and checker.poll() is None
    holder.communicate("\n", timeout=30)  # the other load ends (or its worker is retired)
    out, _ = checker.communicate(timeout=120)
    assert "loaded 1" in out and f"loaded {JIANGSU}" in out


def test_pending_migrations_are_seen_from_the_migration_table(tmp_path):
    env = site_env(tmp_path)
    code = textwrap.dedent(
        """
        import django
        django.setup()
        from django.db import connection
        from bulletins.repair import migrations_pending
        print(migrations_pending())
        from django.core.management import call_command
        call_command("migrate", verbosity=0)
        print(migrations_pending())
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM django_migrations WHERE name = (SELECT max(name) FROM django_migrations)")
        print(migrations_pending())
        """
    )
    result = run_python(code, env)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "False", "True"]


def indexed_section_ids(query):
    searcher = index.searcher(ContentState.index_name())
    hits = searcher.search(places_query(parse(query)), limit=10_000).hits
    return set(searcher.fast_field_values("section_id", [address for _, address in hits]))


def test_a_large_load_parses_in_worker_processes_and_indexes_every_section(tmp_path, monkeypatch, settings):
    write_archive(tmp_path / "archive", 24)
    monkeypatch.setattr(loader, "POOL_MIN_FILES", 20)
    settings.BULLETINS_LOAD_PROCESSES = 2
    with loader.worker_pool(24) as pool:
        assert pool is not map  # this load will use the workers
    report = load_content(tmp_path / "archive")
    assert len(report.loaded) == 24 and not report.refused
    sections = Section.objects.filter(article__source_path__in=report.loaded)
    assert len(sections) > 24
    for section in sections:
        piece = section.paragraphs[-1][-12:]
        assert section.pk in indexed_section_ids(f'"{piece}"'), piece


def index_files(name):
    return {path.name: path.stat().st_ino for path in (index.root() / name).iterdir() if path.is_file()}


def test_each_load_that_changes_content_publishes_a_new_index_version_made_from_the_last(content_dir, own_index):
    load_content(content_dir)
    before = ContentState.index_name()
    assert load_content(content_dir).loaded == [] and ContentState.index_name() == before  # nothing changed
    (content_dir / "04-new.md").write_text("---\ntitle: 新的一篇\nslug: new-one\n---\n\n孙廷朴出席。\n", encoding="utf-8")
    load_content(content_dir)
    after = ContentState.index_name()
    assert after != before and index.exists(before)  # the last version stays for workers holding it
    shared = {name for name, inode in index_files(before).items() if index_files(after).get(name) == inode}
    assert any(name.endswith(".idx") for name in shared)  # the unchanged segment is linked, not written again
    assert indexed_section_ids("孙廷朴") and indexed_section_ids("赵庭朴")


def test_a_load_that_replaces_a_bulletin_builds_the_index_afresh(content_dir, own_index):
    """Deleted documents would stay in BM25's statistics: the answer would depend on the loads
    that led to the content, not on the content."""
    load_content(content_dir)
    before = ContentState.index_name()
    path = content_dir / JIANGSU
    path.write_text(path.read_text(encoding="utf-8").replace("赵庭朴", "孙廷朴"), encoding="utf-8")
    load_content(content_dir)
    after = ContentState.index_name()
    assert after != before and index.exists(before)
    shared = {name for name, inode in index_files(before).items() if index_files(after).get(name) == inode}
    assert not any(name.endswith(".idx") for name in shared)
    assert indexed_section_ids("赵庭朴") == set() and indexed_section_ids("孙廷朴")


def test_a_load_that_fails_leaves_the_last_index_serving_and_removes_its_own(content_dir, monkeypatch, own_index):
    load_content(content_dir)
    before, versions = ContentState.index_name(), set(os.listdir(index.root()))
    path = content_dir / JIANGSU
    path.write_text(path.read_text(encoding="utf-8").replace("赵庭朴", "孙廷朴"), encoding="utf-8")
    monkeypatch.setattr(loader, "update_state", lambda name: 1 / 0)
    with pytest.raises(ZeroDivisionError):
        load_content(content_dir)
    assert ContentState.index_name() == before and set(os.listdir(index.root())) == versions
    assert indexed_section_ids("赵庭朴")


@pytest.fixture
def own_index(settings, tmp_path):
    """An index folder of the test's own: what it removes is no other test's."""
    settings.BULLETINS_INDEX_DIR = tmp_path / "index"


def test_old_index_versions_are_removed(content_dir, settings, own_index):
    settings.BULLETINS_INDEX_KEEP = 2
    path = content_dir / JIANGSU
    names = []
    for n in range(4):
        path.write_text(path.read_text(encoding="utf-8") + f"\n第{n}次。\n", encoding="utf-8")
        load_content(content_dir)
        names.append(ContentState.index_name())
    assert set(os.listdir(index.root())) == set(names[-2:])


def test_a_missing_index_is_built_again_by_the_next_load(content_dir, own_index):
    load_content(content_dir)
    shutil.rmtree(index.root() / ContentState.index_name())
    assert load_content(content_dir).loaded == []
    assert index.exists(ContentState.index_name()) and indexed_section_ids("赵庭朴")


def test_a_load_in_a_thread_stays_in_its_process(monkeypatch, settings):
    monkeypatch.setattr(loader, "POOL_MIN_FILES", 0)
    settings.BULLETINS_LOAD_PROCESSES = 2
    seen = []

    def pool_in_thread():
        with loader.worker_pool(1000) as pool:
            seen.append(pool)

    thread = threading.Thread(target=pool_in_thread)
    thread.start()
    thread.join()
    assert seen == [map]


@pytest.mark.parametrize("signal_name", ["SIGKILL", "SIGTERM"])
def test_a_load_killed_in_its_pool_leaves_no_worker_and_no_lock_behind(tmp_path, signal_name):
    import signal
    import time

    archive = write_archive(tmp_path / "archive", 400)
    env = site_env(tmp_path, BULLETINS_CONTENT_DIR=archive, BULLETINS_LOAD_PROCESSES=2)
    command = [sys.executable, "manage.py", "loadbulletins"]
    load = subprocess.Popen(command, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while len(children(load.pid)) < 2 and time.monotonic() < deadline:  # the pool's workers
        time.sleep(0.02)
    workers = children(load.pid)
    assert len(workers) >= 2, "the load never started its pool"
    load.send_signal(getattr(signal, signal_name))
    load.wait(timeout=10)
    time.sleep(0.5)
    assert not [pid for pid in workers if process_state(pid) not in (None, "Z")]  # gone, or dead and not yet reaped
    again = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert again.returncode == 0, again.stderr
    count = "import django; django.setup(); from bulletins.models import Article; print(Article.objects.count())"
    assert run_python(count, env).stdout.strip() == "400"


def test_a_load_that_waits_for_another_says_so(tmp_path):
    import fcntl

    env = site_env(tmp_path)
    (tmp_path / "var").mkdir()
    with open(tmp_path / "var" / "site.lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # as another process's load would
        load = subprocess.Popen(
            [sys.executable, "manage.py", "loadbulletins"], env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        line = load.stdout.readline()
        assert "site.lock: another process is loading content" in line and load.poll() is None
    out, _ = load.communicate(timeout=120)
    assert load.returncode == 0 and "is free: loading" in out and "loaded 3" in out


def test_loadbulletins_works_on_a_fresh_clone_before_collectstatic(tmp_path):
    env = site_env(tmp_path, BULLETINS_STATIC_ROOT=tmp_path / "not-collected")
    result = subprocess.run([sys.executable, "manage.py", "loadbulletins"], env=env, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert "loaded 3" in result.stdout


def garbled_header(database):
    with open(database, "r+b") as handle:
        handle.write(b"not a database, whatever it was" * 4)


def unrecorded_migrations(database):
    """What a write-ahead log removed under the running site can leave: tables, but not the rows
    that record their migrations, so that migrate() fails on "table already exists"."""
    with sqlite3.connect(database) as connection:
        connection.execute("DELETE FROM django_migrations WHERE app = 'bulletins' AND name != '0001_initial'")
        connection.execute("DROP TABLE bulletins_page")


@pytest.mark.parametrize("damage, said", [(garbled_header, "cannot be read"), (unrecorded_migrations, "cannot be migrated")])
def test_a_damaged_database_is_set_aside_and_rebuilt_by_the_next_load(tmp_path, damage, said):
    env = site_env(tmp_path)
    command = [sys.executable, "manage.py", "loadbulletins"]
    assert subprocess.run(command, env=env, cwd=ROOT, capture_output=True).returncode == 0
    damage(tmp_path / "var" / "site.sqlite3")
    result = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert said in result.stdout and "moved aside" in result.stdout and "loaded 3" in result.stdout
    assert [p.name for p in (tmp_path / "var").glob("site.sqlite3.broken-*")]
    count = "import django; django.setup(); from bulletins.models import Page; print(Page.objects.count())"
    assert run_python(count, env).stdout.strip() == "3"


def test_a_file_name_with_a_newline_forges_no_log_line(content_dir, caplog):
    """Issue 22: the name is logged with its control characters escaped."""
    (content_dir / "05-bad\nERROR refused everything.md").write_text("---\ntitle: 坏\n---\n\n正文。\n", encoding="utf-8")
    with caplog.at_level("INFO", logger="bulletins.loader"):
        load_content(content_dir)
    lines = "\n".join(record.getMessage() for record in caplog.records).splitlines()
    assert not any(line.startswith("ERROR refused everything") for line in lines)
    assert any("05-bad\\nERROR refused everything.md" in line for line in lines)


def test_a_long_load_says_how_far_it_has_got_a_line_per_batch(tmp_path, caplog):
    """Issue 24: a load of 10,000 bulletins said nothing for most of a minute."""
    import logging

    archive = write_archive(tmp_path / "archive", 600)
    with caplog.at_level(logging.INFO, logger="bulletins.progress"):
        load_content(archive)
    said = [record.getMessage() for record in caplog.records if record.name == "bulletins.progress"]
    for phase in ("parsed", "written", "indexed", "pages checked"):
        assert f"{phase}: 500 of 600" in said and f"{phase}: 600 of 600" in said, (phase, said)


def test_on_a_terminal_each_phase_draws_a_bar():
    import io

    from bulletins import progress

    stream = io.StringIO()
    with progress.bars(stream):
        for done in range(1, 4):
            progress.step("parsed", done, 3)
    assert "parsed" in stream.getvalue() and "3/3" in stream.getvalue()

"""Serving for the public internet: methods, headers, HTTP caching, and a real gunicorn under
restarts and bad content."""

import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time

import pytest
from django.utils.http import http_date
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bulletins.loader import load_content
from bulletins.middleware import CONTENT_SECURITY_POLICY
from bulletins.models import ContentState
from bulletins.testing.processes import Server, children, site_env

from .support import CONTENT, FIXTURES, ROOT

CQ = "/articles/chongqing-yutong-shouhu/"
JS = "/articles/jiangsu-social-assistance-2023/"

SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=(), usb=(), browsing-topics=()",
    "Cross-Origin-Opener-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}


def static_url(client):
    return re.search(r'href="(/static/bulletins/site\.[0-9a-f]+\.css)"', client.get("/").content.decode()).group(1)


def every_kind_of_response(client):
    yield "page", client.get(CQ)
    yield "404", client.get("/articles/nothing-here/")
    yield "405", client.post("/")
    yield "JSON", client.get("/api/search", {"q": "儿童"})
    yield "JSON error", client.get("/api/search")
    yield "static", client.get(static_url(client))
    yield "health", client.get("/healthz")
    yield "304", client.get(CQ, HTTP_IF_NONE_MATCH=client.get(CQ)["ETag"])


@pytest.mark.django_db
def test_every_kind_of_response_carries_the_security_headers(client):
    for kind, response in every_kind_of_response(client):
        for header, value in SECURITY_HEADERS.items():
            assert response.headers.get(header) == value, (kind, header)


@pytest.mark.django_db
def test_content_security_policy_allows_nothing_inline_or_foreign():
    assert "unsafe-inline" not in CONTENT_SECURITY_POLICY and "unsafe-eval" not in CONTENT_SECURITY_POLICY
    assert "frame-ancestors 'none'" in CONTENT_SECURITY_POLICY
    assert not re.search(r"https?:|\*", CONTENT_SECURITY_POLICY)


@pytest.mark.django_db
def test_no_response_sets_a_cookie(client):
    for kind, response in every_kind_of_response(client):
        assert "Set-Cookie" not in response.headers, kind
        assert not response.cookies, kind


@pytest.mark.django_db
@pytest.mark.parametrize("method", ["post", "put", "patch", "delete", "options", "trace"])
@pytest.mark.parametrize("path", ["/", CQ, "/search/", "/api/search", "/healthz", "/static/bulletins/site.css", "/nowhere"])
def test_only_get_and_head_are_allowed(client, method, path):
    response = client.generic(method.upper(), path)
    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD"


@pytest.mark.django_db
def test_head_answers_like_get_without_a_body(client):
    response = client.head(CQ)
    assert response.status_code == 200 and response.content == b""
    assert response["ETag"] == client.get(CQ)["ETag"]


@pytest.mark.django_db
def test_pages_carry_validators_and_answer_conditional_requests(client):
    response = client.get(CQ)
    # Browsers revalidate after 5 minutes; a CDN may answer stale while it revalidates or while
    # no replica answers.
    assert response["Cache-Control"] == "public, max-age=300, s-maxage=300, stale-while-revalidate=60, stale-if-error=86400"
    assert response["ETag"] and response["Last-Modified"]
    assert client.get(CQ, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
    assert client.get(CQ, HTTP_IF_MODIFIED_SINCE=response["Last-Modified"]).status_code == 304
    assert client.get(CQ, HTTP_IF_NONE_MATCH='"something-else"').status_code == 200
    assert client.get("/").get("ETag") != response["ETag"]  # one validator per URL
    assert client.get("/")["Cache-Control"] == response["Cache-Control"]  # a stored page answers like a rendered one


def edit(path, old, new):
    path.write_text(path.read_text(encoding="utf-8").replace(old, new), encoding="utf-8")


@pytest.mark.django_db
def test_a_page_keeps_its_validators_until_its_own_bytes_change(client, content_dir):
    before = client.get(CQ)
    edit(content_dir / "01-jiangsu-social-assistance-2023.md", "出席会议并讲话", "出席会议并作讲话")
    load_content(content_dir)
    assert client.get(CQ, HTTP_IF_NONE_MATCH=before["ETag"]).status_code == 304  # a neighbour's body
    assert client.get(JS, HTTP_IF_NONE_MATCH=before["ETag"]).status_code == 200

    edit(content_dir / "01-jiangsu-social-assistance-2023.md", "title: 江苏省召开", "title: 江苏召开")
    load_content(content_dir)
    after = client.get(CQ, HTTP_IF_NONE_MATCH=before["ETag"])  # a neighbour's title: the pager changed
    assert after.status_code == 200 and after["ETag"] != before["ETag"]
    assert "上一篇：江苏召开" in after.content.decode().replace("<wbr>", "")


@pytest.mark.django_db
def test_other_pages_take_their_validators_from_the_published_version(client, content_dir):
    before = client.get("/")
    assert before["Last-Modified"] == "Sun, 29 Nov 2026 16:00:00 GMT"  # the latest `added`, 2026-11-30 in Beijing
    edit(content_dir / "01-jiangsu-social-assistance-2023.md", "出席会议并讲话", "出席会议并作讲话")
    load_content(content_dir)
    after = client.get("/", HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200 and after["ETag"] != before["ETag"]
    assert after["Last-Modified"] == http_date(ContentState.current().last_modified)  # the content's dates, not the load's
    ContentState.objects.all().delete()  # nothing published yet: nothing to validate against
    assert "ETag" not in client.get("/")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["/", "/regions/", "/search/?q=儿童", "/api/search?q=儿童", "/feeds/atom/", "/sitemap.xml", "/robots.txt", CQ + "?hl=儿童主任"]
)
def test_every_page_made_from_the_content_revalidates_against_it(client, url):
    response = client.get(url)
    assert response.status_code == 200 and response["Cache-Control"].startswith("public, max-age=300")
    assert client.get(url, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304
    assert client.get(url, HTTP_IF_NONE_MATCH='"another"').status_code == 200


A_LOAD_WHILE_A_PAGE_IS_MADE = """
import json, sys, threading
from pathlib import Path
import django
django.setup()
from django.db import connection, connections
from django.test import Client
from bulletins.loader import load_content
from bulletins.startup import migrate_and_load

migrate_and_load()
client = Client(HTTP_HOST="localhost")
url = sys.argv[2]
before = client.get(url)
article = Path(sys.argv[1]) / "02-chongqing-yutong-shouhu.md"
moved = "slug: chongqing-yutong-shouhu-moved"
article.write_text(article.read_text(encoding="utf-8").replace("slug: chongqing-yutong-shouhu", moved), encoding="utf-8")

def publish():
    load_content()
    connections.close_all()

# The load's closing checkpoint waits for this reader's old snapshot, held by the join below,
# for the whole busy timeout (30 s): this thread's connection gives up after 1 s instead.
connections["default"].settings_dict["OPTIONS"]["timeout"] = 1

loaded = []
def load_after_the_version_is_read(execute, sql, params, many, context):
    result = execute(sql, params, many, context)
    if not loaded and "last_modified FROM" in sql:  # the validators were read: publish now
        loaded.append(True)
        thread = threading.Thread(target=publish)
        thread.start()
        thread.join()
    return result

with connection.execute_wrapper(load_after_the_version_is_read):
    during = client.get(url)
after = client.get(url)
print(json.dumps({"loaded": loaded, "etags": [r["ETag"] for r in (before, during, after)],
                  "moved": ["chongqing-yutong-shouhu-moved" in r.content.decode() for r in (before, during, after)]}))
"""


@pytest.mark.parametrize("url", ["/", "/sitemap-articles.xml"])
def test_validators_and_body_come_from_one_version_while_a_load_publishes(tmp_path, url):
    """Issue 22: the version was read before the view ran, in another snapshot, so a load
    published in between gave the new body the old version's ETag, which a cache then kept."""
    content = tmp_path / "content"
    shutil.copytree(CONTENT, content)
    env = site_env(tmp_path, BULLETINS_CONTENT_DIR=content)
    command = [sys.executable, "-c", A_LOAD_WHILE_A_PAGE_IS_MADE, str(content), url]
    result = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["loaded"] == [True]
    (before, during, after), (old, body, new) = seen["etags"], seen["moved"]
    assert before != after and not old and new  # the load changed the page and its validators
    assert (during, body) in {(before, False), (after, True)}


@pytest.mark.django_db
def test_the_health_check_is_never_validated_or_kept(client):
    response = client.get("/healthz")
    assert "ETag" not in response and "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_hashed_static_files_are_immutable_and_compressed(client):
    response = client.get(static_url(client), HTTP_ACCEPT_ENCODING="gzip, br")
    assert response.status_code == 200
    assert "immutable" in response["Cache-Control"]
    assert int(re.search(r"max-age=(\d+)", response["Cache-Control"]).group(1)) >= 365 * 24 * 3600
    assert response["Content-Encoding"] in {"gzip", "br"}


@pytest.mark.django_db
def test_health_check_reports_the_content_version(client):
    data = client.get("/healthz").json()
    assert data["status"] == "ok" and data["articles"] == 3 and len(data["version"]) == 64
    assert "no-store" in client.get("/healthz")["Cache-Control"]


@pytest.mark.django_db
def test_health_check_counts_the_refused_files_and_says_how_the_last_load_ended_naming_nothing(client, content_dir):
    """Issue 22: /healthz is public; it listed a draft's name (…内部草稿-勿发布.md) and quoted
    unpublished values. The operator reads them in the log and from `loadbulletins --check`."""
    from django.core.exceptions import ImproperlyConfigured

    (content_dir / "04-内部草稿-勿发布.md").write_text("---\ntitle: 内部草稿\n---\n\n正文。\n", encoding="utf-8")
    load_content(content_dir)
    response = client.get("/healthz")
    data = response.json()
    assert data["status"] == "ok" and data["refused"] == 1 and " ok: loaded 0, unchanged 3" in data["last_load"]
    assert "内部草稿" not in response.content.decode()
    with pytest.raises(ImproperlyConfigured):
        load_content(content_dir / "missing")
    data = client.get("/healthz").json()
    assert data["last_load"].endswith(" failed (see the log)") and data["articles"] == 3 and "missing" not in data["last_load"]


def test_deploy_check_passes_with_https_settings(tmp_path):
    env = site_env(
        tmp_path,
        DJANGO_HTTPS=1,
        DJANGO_SECRET_KEY="k" * 10 + "-9f2c7a1e4b8d3f6a0c5e2b7d9a4f1c8e3b6d0a2f5c",
        DJANGO_ALLOWED_HOSTS="bulletins.example.org",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "System check identified no issues" in result.stdout and "WARNING" not in result.stdout


def test_secret_key_is_required_beyond_loopback(tmp_path):
    env = site_env(tmp_path, DJANGO_ALLOWED_HOSTS="bulletins.example.org")
    env.pop("DJANGO_SECRET_KEY", None)
    result = subprocess.run([sys.executable, "manage.py", "check"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode != 0 and "DJANGO_SECRET_KEY must be set" in result.stderr


# -- fuzzing every URL and parameter --------------------------------------------------------

PATHS = st.sampled_from(
    [
        "/",
        CQ,
        JS,
        "/search/",
        "/api/search",
        "/healthz",
        "/articles/",
        "/static/",
        "/articles/{}/",
        "/{}",
        "/search/{}",
        "/static/bulletins/{}",
        "/feeds/atom/",
        "/feeds/rss/",
        "/sitemap.xml",
        "/robots.txt",
        "/api/articles/",
        "/api/articles/{}/",
        "/feeds/{}/",
    ]
)
TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)
PARAMS = st.dictionaries(st.sampled_from(["q", "limit", "offset", "page", "region", "hl", "p", "format"]), TEXT, max_size=5)
ACCEPT = st.sampled_from(["*/*", "application/json", "text/html", "", "garbage/;;", "text/html;q=abc"])


@pytest.mark.django_db
@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    path=PATHS, segment=st.text(st.characters(codec="utf-8", exclude_categories=["Cs", "Cc"]), max_size=30), params=PARAMS, accept=ACCEPT
)
def test_no_url_or_parameter_makes_a_500(client, path, segment, params, accept):
    url = path.format(segment.replace("?", "").replace("#", "")) if "{}" in path else path
    response = client.get(url, params, HTTP_ACCEPT=accept)
    assert response.status_code < 500, (url, params)


# -- a real gunicorn ------------------------------------------------------------------------


@pytest.fixture
def server_content(tmp_path):
    directory = tmp_path / "served-content"
    shutil.copytree(CONTENT, directory)
    return directory


@pytest.mark.parametrize("case", ["broken-yaml", "missing-title", "empty-body", "unknown-key", "invalid-utf8", "duplicate-slug"])
def test_broken_file_through_a_reload_keeps_serving_the_last_good_version(tmp_path, server_content, case):
    server = Server(tmp_path, server_content, workers=1)
    try:
        name = "00-duplicate.md" if case == "duplicate-slug" else "01-jiangsu-social-assistance-2023.md"
        shutil.copy(FIXTURES / "bad" / f"{case}.md", server_content / name)
        server.reload()
        server.wait_until(lambda: f"refused {name}:" in server.output(), "the refusal in the log")
        assert re.search(rf"ERROR bulletins.loader refused {re.escape(name)}:\d+: ", server.output())
        status, body, _ = server.get(JS)
        assert status == 200 and "赵庭朴出席会议并讲话" in body
        for path in (CQ, "/articles/shenzhen-civil-affairs-2023/", "/"):
            assert server.get(path)[0] == 200
    finally:
        server.stop()


def test_a_forwarded_scheme_is_trusted_only_behind_https(tmp_path, server_content):
    server = Server(tmp_path, server_content, workers=1)
    try:
        status, body, _ = server.get("/api/articles/", {"X-Forwarded-Proto": "https", "Host": "127.0.0.1"})
        assert status == 200 and '"url": "http://127.0.0.1/articles/' in body
    finally:
        server.stop()


def test_a_database_deleted_under_the_site_is_rebuilt_after_a_reload(tmp_path, server_content):
    server = Server(tmp_path, server_content, workers=2)
    try:
        for path in (tmp_path / "var").glob("site.sqlite3*"):
            path.unlink()
        server.reload()
        paths = ["/healthz", JS, "/", "/search/?q=%E5%84%BF%E7%AB%A5%E4%B8%BB%E4%BB%BB"]

        # A retiring worker may remove the new database's write-ahead log by name as it closes:
        # a worker that then meets a missing table answers 503, reopens the file and rebuilds.
        def rebuilt():
            answers = [server.get(path) for path in paths * 3]
            return all(status == 200 for status, _, _ in answers) and all('"articles": 3' in a[1] for a in answers[::4])

        server.wait_until(rebuilt, "the rebuilt site", timeout=60)
    finally:
        server.stop()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_any_sequence_of_reloads_kills_and_restarts_converges_on_the_content(tmp_path, server_content, seed):
    """Edits each followed by a HUP, second HUPs during loads, workers and masters killed,
    restarts: afterwards the site serves what content/ holds, with no manual step."""
    rng = random.Random(seed)
    path = server_content / "01-jiangsu-social-assistance-2023.md"
    original = path.read_text(encoding="utf-8")
    server, expected, steps = Server(tmp_path, server_content, workers=2), "出席会议并讲话", []
    try:
        for step in range(8):
            action = rng.choice(["edit, HUP", "HUP", "HUP, HUP", "kill a worker", "restart", "kill the master"])
            steps.append(action)
            if action == "edit, HUP":
                expected = f"出席会议并讲话（第{seed}-{step}次修改）"
                path.write_text(original.replace("出席会议并讲话", expected), encoding="utf-8")
                server.reload()
            elif action.startswith("HUP"):
                for _ in action.split(", "):
                    server.reload()
                    time.sleep(rng.uniform(0, 0.3))
            elif action == "kill a worker" and children(server.process.pid):
                os.kill(rng.choice(children(server.process.pid)), signal.SIGKILL)
            elif action in ("restart", "kill the master"):
                if action == "restart":
                    server.stop()
                else:
                    server.process.kill()
                    server.process.wait()
                    server.log.close()
                server = Server(tmp_path, server_content, workers=2)
            time.sleep(rng.uniform(0, 0.5))
        server.wait_until(lambda: expected in server.get(JS)[1], f"the last edit after {steps}", timeout=90)
        status, body, _ = server.get("/healthz")
        assert status == 200 and '"articles": 3' in body
    finally:
        server.stop()


def test_a_second_reload_during_a_load_loses_no_change(tmp_path):
    """The worker loading a change is retired by a second HUP before it is done: the workers
    that the second HUP starts wait for its lock, then publish the change themselves."""
    from bench.archive import write_archive

    archive = write_archive(tmp_path / "archive", 600)
    server = Server(tmp_path, archive, workers=2)
    try:
        for path in archive.glob("*.md"):  # every file changed: a load of some seconds
            path.write_text(path.read_text(encoding="utf-8").replace("。", "；", 1), encoding="utf-8")
        first = archive / "000001.md"
        first.write_text(first.read_text(encoding="utf-8").replace("---\n\n", "---\n\n第二次重载前的修改。\n\n", 1), encoding="utf-8")
        server.reload()
        time.sleep(1.0)  # the new workers' load is under way
        server.reload()
        server.wait_until(lambda: "第二次重载前的修改" in server.get("/articles/bulletin-1/")[1], "the change", timeout=120)
    finally:
        server.stop()


def test_a_database_damaged_under_the_site_answers_503_then_repairs_itself(tmp_path, server_content):
    import sqlite3

    server = Server(tmp_path, server_content, workers=2)
    try:
        with sqlite3.connect(tmp_path / "var" / "site.sqlite3") as db:
            db.execute("DROP TABLE bulletins_section")  # what a damaged file or a stray hand may do
        status, body, headers = server.get("/api/articles/jiangsu-social-assistance-2023/")
        assert status == 503 and "正在重建" in body and headers.get("Retry-After") == "5"
        server.wait_until(
            lambda: all(server.get(p)[0] == 200 for p in ["/api/articles/jiangsu-social-assistance-2023/", "/healthz"] * 3),
            "the repaired site",
        )
        assert "cannot be read" in server.output() and "moved aside" in server.output()
        assert list((tmp_path / "var").glob("site.sqlite3.broken-*"))
    finally:
        server.stop()


def published_index(tmp_path):
    """The folder of the search index version that the site publishes."""
    import sqlite3

    with sqlite3.connect(tmp_path / "var" / "site.sqlite3") as db:
        (name,) = db.execute("SELECT index_version FROM bulletins_contentstate").fetchone()
    return tmp_path / "var" / "site.index" / name


def truncate_a_term_file(folder):
    term = max(folder.glob("*.term"), key=lambda p: p.stat().st_size)
    with open(term, "r+b") as handle:
        handle.truncate(term.stat().st_size // 2)


@pytest.mark.parametrize(
    "damage",
    [
        lambda folder: shutil.rmtree(folder),
        truncate_a_term_file,
        lambda folder: (folder / "meta.json").write_text("garbage", encoding="utf-8"),
    ],
    ids=["deleted", "truncated-term-file", "garbage-meta"],
)
def test_a_damaged_search_index_answers_503_then_heals_without_a_reload(tmp_path, server_content, damage):
    """Issue 22: search answered 200 with nothing (a deleted index), a worker died of SIGBUS
    (a truncated file) or every search answered 500 (garbage in meta.json), /healthz said ok,
    and a HUP repaired nothing, the content being unchanged."""
    server = Server(tmp_path, server_content, workers=2)
    search = "/search/?q=%E5%84%BF%E7%AB%A5%E4%B8%BB%E4%BB%BB"
    try:
        assert server.get(search)[0] == 200
        damaged = published_index(tmp_path)
        time.sleep(1.2)  # past the second for which a worker trusts the version it checked
        damage(damaged)
        answers = [server.get(path) for path in (search, "/api/search?q=%E5%84%BF%E7%AB%A5", "/healthz")]
        for status, body, headers in answers:
            assert status == 503 or (status == 200 and published_index(tmp_path) != damaged), (status, body[:200])
            assert status != 503 or headers.get("Retry-After") == "5" or body.startswith("{")
        server.wait_until(
            lambda: all(server.get(path)[0] == 200 for path in ("/healthz", search) * 3) and published_index(tmp_path) != damaged,
            "a rebuilt index",
        )
        assert "儿童主任" in server.get(search)[1] and 'data-bulletin="chongqing-yutong-shouhu"' in server.get(search)[1]
        assert "SIGBUS" not in server.output()
    finally:
        server.stop()

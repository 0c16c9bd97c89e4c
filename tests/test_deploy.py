"""Beyond one process: nginx in front of replicas (deploy/), as `make run` and `make cluster`
start them, against real nginx, real gunicorns and real slow clients, on loopback."""

import contextlib
import json
import os
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import quote, urlsplit

import pytest

from bulletins.testing.processes import Front
from bulletins.testing.slow_clients import SlowClients, readers
from deploy import run

from .support import CONTENT, ROOT

CQ = "/articles/chongqing-yutong-shouhu/"
QUERIES = ("儿童主任", "深圳给孤儿的钱每月多少", "社会救助", "皮磊", "80%", "養老服務")


def fetch(port, path, host, encoding="gzip"):
    """Status, the headers that validate and describe, and the bytes, straight from one replica."""
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", headers={"Host": host, "Accept-Encoding": encoding})
    try:
        response = urllib.request.urlopen(request, timeout=10)
    except urllib.error.HTTPError as error:
        response = error
    with response:
        headers = {
            name: response.headers.get(name) for name in ("ETag", "Last-Modified", "Content-Type", "Content-Encoding", "Cache-Control")
        }
        return response.status, headers, response.read()


def urls_of(front):
    """Every URL of the sitemaps and the feeds, the API and a set of searches."""
    found = {"/", "/sitemap.xml", "/feeds/atom/", "/feeds/rss/", "/api/articles/", "/robots.txt", "/search/", "/nowhere/"}
    index = urllib.request.urlopen(front.url + "/sitemap.xml").read().decode()
    for sitemap in re.findall(r"<loc>([^<]+)</loc>", index):
        found.add(urlsplit(sitemap).path)
        for loc in re.findall(r"<loc>([^<]+)</loc>", urllib.request.urlopen(front.url + urlsplit(sitemap).path).read().decode()):
            found.add(urlsplit(loc).path)
    for url in list(found):
        if re.fullmatch(r"/articles/[^/]+/", url):
            found.add("/api" + url)
    for query in QUERIES:
        found |= {f"/search/?q={quote(query)}", f"/api/search?q={quote(query)}", f"{CQ}?hl={quote(query)}"}
    return sorted(found)


@pytest.fixture
def content(tmp_path):
    shutil.copytree(CONTENT, tmp_path / "content")
    return tmp_path / "content"


def test_replicas_built_at_different_times_answer_the_same_bytes_and_validators(tmp_path, content):
    """Two replicas load the same content one after the other, each into its own data folder; a
    load balancer passes them the public Host: every answer must be the same (status, validators,
    bytes), compressed or not, a 404 too."""
    front = Front(tmp_path, content, replicas=2)
    try:
        first_port, second_port = front.replicas()[1][1], front.replicas()[2][1]
        assert first_port != second_port
        host = f"127.0.0.1:{front.port}"
        urls = urls_of(front)
        assert len(urls) > 30 and any(u.startswith("/sitemap-") for u in urls)
        for url in urls:
            for encoding in ("gzip", "identity"):
                a, b = fetch(first_port, url, host, encoding), fetch(second_port, url, host, encoding)
                assert a == b, url
                assert a[0] == (404 if url == "/nowhere/" else 200), url
        assert (front.data / "replica-1" / "bulletins.sqlite3").exists() and (front.data / "replica-2" / "bulletins.sqlite3").exists()
    finally:
        front.stop()


def test_nginx_answers_with_compression_and_the_headers_a_cdn_needs(tmp_path, content):
    front = Front(tmp_path, content)
    try:
        page = front.url + CQ
        plain = urllib.request.urlopen(urllib.request.Request(page, headers={"Accept-Encoding": "identity"}))
        body = plain.read()
        assert "渝童守护" in body.decode()
        assert "s-maxage=" in plain.headers["Cache-Control"] and "stale-if-error=" in plain.headers["Cache-Control"]
        for encoding in ("gzip", "br"):
            response = urllib.request.urlopen(urllib.request.Request(page, headers={"Accept-Encoding": encoding}))
            assert response.headers["Content-Encoding"] == encoding
            assert response.headers["Vary"] == "Accept-Encoding"
            etag = response.headers["ETag"]
            assert etag.strip("W/") == plain.headers["ETag"].strip("W/")  # the same validator, weak where compressed
            revalidated = urllib.request.Request(page, headers={"Accept-Encoding": encoding, "If-None-Match": etag})
            with pytest.raises(urllib.error.HTTPError) as answer:
                urllib.request.urlopen(revalidated)
            assert answer.value.code == 304
        static = re.search(r'href="(/static/bulletins/site\.[0-9a-f]+\.css)"', body.decode()).group(1)
        assert "immutable" in urllib.request.urlopen(front.url + static).headers["Cache-Control"]
    finally:
        front.stop()


@pytest.mark.parametrize("make", ["run", "cluster"])
def test_slow_clients_hold_no_worker_from_other_readers(tmp_path, content, make):
    """300 connections that send nothing, trickle their headers or never read their answer,
    held 30 s against `make run` and `make cluster`: every page a reader asks meanwhile is
    answered, and none waits anywhere near the 10 s of nginx's client timeouts or the 30 s of
    a worker held by a slow client (properties, not a latency ratio on shared cores: the
    ratio is bench/slow_clients.py's)."""
    front = Front(tmp_path, content, make=make, replicas=1 if make == "run" else 2, workers=2)
    try:
        with SlowClients(front.url, 300, page=CQ) as held:
            statuses, latencies = readers(front.url, CQ, 30 if make == "run" else 10)
            assert held.opened == 300
        assert statuses and all(status == 200 for status in statuses)
        assert max(latencies) < 2, sorted(latencies)[-5:]
    finally:
        front.stop()


def test_readers_who_never_read_a_large_page_hold_no_worker(tmp_path, content):
    """Issue 22: nginx held at most 512 KB of an answer and nothing on disk, so a reader who does
    not read a larger page held a gunicorn worker: 30 of them on a 4.8 MB page failed half the
    health probes. Now nginx takes the answer whole (to a file past memory) and frees the worker."""
    # 3,000 long paragraphs: a page of 5.5 MB that loads in about 8 s (20,000 short ones took 40 s).
    paragraphs = "\n\n".join(f"第{n}段：" + "社会救助工作持续推进，困难群众基本生活得到保障。" * 24 for n in range(3000))
    (content / "09-long.md").write_text(f"---\ntitle: 很长的一篇\nslug: long-one\n---\n\n{paragraphs}\n", encoding="utf-8")
    front = Front(tmp_path, content, workers=2, start_timeout=120, BULLETINS_MAX_FILE_BYTES=16_000_000)
    try:
        page = "/articles/long-one/"
        status, body, _ = front.get(page)
        assert status == 200 and len(body.encode()) > 4 * 2**20  # far past what nginx holds in memory and loopback's buffers
        with SlowClients(front.url, 30, page=page) as held:
            statuses, latencies = readers(front.url, "/healthz", 10, interval=0.5)
            assert held.opened == 30
        assert statuses and all(status == 200 for status in statuses), statuses
        assert max(latencies) < 5, sorted(latencies)[-3:]  # a probe is not kept waiting for a worker
    finally:
        front.stop()


SECURITY_HEADERS = (
    "Content-Security-Policy",
    "Permissions-Policy",
    "X-Content-Type-Options",
    "Referrer-Policy",
    "Cross-Origin-Opener-Policy",
    "X-Frame-Options",
)


def raw_answer(url, request):
    """(status, [(header, value)]) of a request written by hand, as a client that breaks limits sends it."""
    parts = urlsplit(url)
    with socket.create_connection((parts.hostname, parts.port), timeout=10) as sock:
        sock.sendall(request)
        data = b""
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    return int(head[0].split()[1]), [tuple(line.split(": ", 1)) for line in head[1:]]


def test_every_answer_through_nginx_carries_the_security_headers_once(tmp_path, content):
    """Issue 22: nginx's own 400, 413 and 414, and gunicorn's 414 (a line nginx takes, 4,094
    bytes being gunicorn's limit), carried none of them; nginx's own 405 named no Allow."""
    from django.conf import settings

    from bulletins.middleware import CONTENT_SECURITY_POLICY, PERMISSIONS_POLICY

    site = {  # what Django sets, as the site's own answers carry it
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "Permissions-Policy": PERMISSIONS_POLICY,
        "X-Content-Type-Options": "nosniff" if settings.SECURE_CONTENT_TYPE_NOSNIFF else None,
        "Referrer-Policy": settings.SECURE_REFERRER_POLICY,
        "Cross-Origin-Opener-Policy": settings.SECURE_CROSS_ORIGIN_OPENER_POLICY,
        "X-Frame-Options": settings.X_FRAME_OPTIONS,
    }
    front = Front(tmp_path, content)
    try:
        host = f"Host: 127.0.0.1:{front.port}\r\n".encode()
        requests = {
            "page": b"GET / HTTP/1.1\r\n" + host + b"Connection: close\r\n\r\n",
            "414": b"GET /" + b"a" * 20_000 + b" HTTP/1.1\r\n" + host + b"Connection: close\r\n\r\n",
            "400": b"GET / HTTP/1.1\r\n" + host + b"X-Big: " + b"b" * 20_000 + b"\r\nConnection: close\r\n\r\n",
            "413": b"POST / HTTP/1.1\r\n" + host + b"Content-Length: 100000\r\nConnection: close\r\n\r\n",
            "gunicorn 414": b"GET /" + b"a" * 6_000 + b" HTTP/1.1\r\n" + host + b"Connection: close\r\n\r\n",
            "405": b"TRACE / HTTP/1.1\r\n" + host + b"Connection: close\r\n\r\n",
            "site 405": b"POST /api/ HTTP/1.1\r\n" + host + b"Content-Length: 0\r\nConnection: close\r\n\r\n",
        }
        for what, request in requests.items():
            status, headers = raw_answer(front.url, request)
            assert str(status) == what.split()[-1] or (what == "page" and status == 200), (what, status)
            allow = [value for header, value in headers if header.lower() == "allow"]
            assert allow == (["GET, HEAD"] if status == 405 else []), (what, allow)
            for name in SECURITY_HEADERS:
                values = [value for header, value in headers if header.lower() == name.lower()]
                assert values == [site[name]], (what, name, values)
    finally:
        front.stop()


def wrk(url, paths, seconds, tmp_path):
    script = tmp_path / "paths.lua"
    script.write_text(
        "local paths = {}\n"
        'for p in string.gmatch(os.getenv("WRK_PATHS"), "[^\\n]+") do paths[#paths + 1] = p end\n'
        "local i = 0\n"
        'request = function() i = (i % #paths) + 1; return wrk.format("GET", paths[i]) end\n'
    )
    env = dict(os.environ, WRK_PATHS="\n".join(paths))
    return subprocess.Popen(
        ["wrk", "-t", "2", "-c", "16", "-d", f"{seconds}s", "-s", str(script), url], env=env, stdout=subprocess.PIPE, text=True
    )


def test_no_request_fails_while_replicas_die_reload_and_restart(tmp_path, content):
    """wrk through nginx for 30 s while one replica is killed, the content changes and every
    replica reloads in turn (`make reload`), and another is stopped: no failed request, no 5xx;
    a replica never answers an older version after a newer one; all serve the new version at
    the end."""
    front = Front(tmp_path, content, replicas=3, workers=2)
    seen, stop = [], threading.Event()
    try:
        replicas = front.replicas()
        before = json.loads(urllib.request.urlopen(front.url + "/healthz").read())["version"]
        paths = [
            "/",
            CQ,
            "/articles/shenzhen-civil-affairs-2023/",
            f"/search/?q={quote('儿童主任')}",
            f"/api/search?q={quote('社会救助')}",
            "/feeds/atom/",
            "/sitemap.xml",
        ]

        def watch(port):  # one replica, straight: the versions it answers, in order
            while not stop.is_set():
                with contextlib.suppress(OSError):
                    seen.append(json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5).read())["version"])
                time.sleep(0.05)

        watcher = threading.Thread(target=watch, args=(replicas[2][1],), daemon=True)
        watcher.start()
        load = wrk(front.url, [quote(p, safe="/?=&%") for p in paths], 30, tmp_path)
        time.sleep(3)  # wrk under way
        os.kill(replicas[1][0], signal.SIGKILL)
        front.wait_until(lambda: front.replicas()[1][0] != replicas[1][0] and front.serving(), "supervisord to start replica 1 again")
        article = content / "02-chongqing-yutong-shouhu.md"
        article.write_text(article.read_text(encoding="utf-8") + "\n\n滚动更新后的新段落。\n", encoding="utf-8")
        assert front.reload().wait(timeout=120) == 0
        os.kill(front.replicas()[3][0], signal.SIGTERM)
        front.wait_until(lambda: front.replicas()[3][0] != replicas[3][0] and front.serving(), "supervisord to start replica 3 again")
        out = load.communicate(timeout=60)[0]
        stop.set()
        watcher.join()
        assert re.search(r"(\d+) requests in", out) and int(re.search(r"(\d+) requests in", out).group(1)) > 1000, out
        assert "Socket errors" not in out, out
        assert "Non-2xx" not in out, out

        front.wait_until(lambda: len(set(versions(front))) == 1 and versions(front)[0] != before, "every replica on the new version")
        assert "滚动更新后的新段落" in urllib.request.urlopen(front.url + CQ).read().decode()
        after = versions(front)[0]
        assert set(seen) <= {before, after} and after in seen
        assert seen[seen.index(after) :] == [after] * (len(seen) - seen.index(after))  # never back to the old one
    finally:
        stop.set()  # the watcher too, should anything above fail
        front.stop()


def versions(front):
    answers = []
    for _, port in front.replicas().values():
        try:
            answers.append(json.loads(urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5).read())["version"])
        except OSError:
            answers.append(None)
    return answers


# The front cache (issue 21): nginx keeps every page made from the content a short time and
# revalidates it with the replicas' validators; searches and /healthz are never kept.
ENCODINGS = {"br": "gzip, deflate, br", "gzip": "gzip", None: None}
NEVER_KEPT = (
    f"/search/?q={quote('儿童主任')}",
    f"/zh-hant/search/?q={quote('兒童主任')}",
    f"/api/search?q={quote('社会救助')}",
    "/api/articles/chongqing-yutong-shouhu/related",
    f"{CQ}?hl={quote('儿童主任')}",
    "/healthz",
)


def through(front, path, accept=None, host=None, **headers):
    """(status, headers, bytes) of one request through the front, any status."""
    if accept:
        headers["Accept-Encoding"] = accept
    if host:
        headers["Host"] = host
    request = urllib.request.Request(front.url + path, headers={name.replace("_", "-"): value for name, value in headers.items()})
    try:
        response = urllib.request.urlopen(request, timeout=30)
    except urllib.error.HTTPError as error:
        response = error
    with response:
        return response.status, response.headers, response.read()


def decoded(headers, body):
    """An answer's bytes as its reader reads them."""
    import gzip

    import brotli

    return {"br": brotli.decompress, "gzip": gzip.decompress}.get(headers.get("Content-Encoding"), bytes)(body)


def stored(front, column, slug="chongqing-yutong-shouhu"):
    import sqlite3

    with sqlite3.connect(front.data / "replica-1" / "bulletins.sqlite3") as connection:
        query = f"SELECT {column} FROM bulletins_page p JOIN bulletins_article a ON a.id = p.article_id WHERE a.slug = ?"
        return bytes(connection.execute(query, (slug,)).fetchone()[0])


def test_the_front_keeps_each_page_in_each_encoding_and_never_a_search(tmp_path, content):
    front = Front(tmp_path, content, BULLETINS_FRONT_CACHE_SECONDS=60)  # 60: the second request is a hit, however slow
    try:
        assert "proxy_cache_path /dev/shm/" in (front.data / "nginx" / "nginx.conf").read_text() or not os.path.isdir("/dev/shm")
        columns = {CQ: {"br": "html_br", "gzip": "html_gzip", None: "html"}}
        columns["/zh-hant" + CQ] = {"br": "hant_br", "gzip": "hant_gzip", None: "hant_html"}  # the twin: a key of its own
        for path, column in columns.items():
            for coding, accept in ENCODINGS.items():
                first, second = through(front, path, accept), through(front, path, accept)
                assert first[1]["X-Cache"] == "MISS" and second[1]["X-Cache"] == "HIT", (path, coding)
                assert first[2] == second[2] == stored(front, column[coding])  # the bytes stored at load, passed on
                assert second[1]["Content-Encoding"] == coding and second[1]["Vary"] == "Accept-Encoding"
                etag, modified = second[1]["ETag"], second[1]["Last-Modified"]
                assert through(front, path, accept, If_None_Match=etag)[0] == 304
                assert through(front, path, accept, If_Modified_Since=modified)[0] == 304
        # Another host is another key, and answers its own bytes; so is every page made from the content.
        assert through(front, CQ, "gzip", host=f"localhost:{front.port}")[1]["X-Cache"] == "MISS"
        for path in ("/", "/regions/", "/feeds/atom/", "/sitemap.xml", "/api/articles/", "/api" + CQ, "/no-such-page/"):
            through(front, path, "gzip")
            assert through(front, path, "gzip")[1]["X-Cache"] == "HIT", path
        for path in NEVER_KEPT:
            answers = [through(front, path, "gzip") for _ in range(2)]
            assert [status for status, _, _ in answers] == [200, 200], path
            assert [headers["X-Cache"] for _, headers, _ in answers] == ["BYPASS", "BYPASS"], path
    finally:
        front.stop()


def test_after_a_reload_no_reader_gets_the_old_page_two_seconds_after_the_replica_serves_the_new(tmp_path, content):
    """Readers through the front, in every encoding, while the content changes and the replica
    reloads (one: with two, the front often takes the new page from the first to reload); the
    replica watched straight. The front keeps a page 1 s."""
    front = Front(tmp_path, content, replicas=1, workers=2)
    marker = "滚动更新后的新段落".encode()
    answers, first_new, stop = [], {}, threading.Event()

    def read(accept):  # (when the request started, whether it got the new page)
        while not stop.is_set():
            started = time.monotonic()
            try:
                status, headers, body = through(front, CQ, accept)
            except OSError as error:
                answers.append((started, error, False))
                continue
            answers.append((started, status, marker in decoded(headers, body)))

    def watch(number, port):  # when this replica first served the new page
        while not stop.is_set():
            started = time.monotonic()
            with contextlib.suppress(OSError):
                if marker in fetch(port, CQ, "127.0.0.1", encoding="identity")[2]:
                    first_new.setdefault(number, started)
            time.sleep(0.02)

    threads = []
    try:
        threads += [threading.Thread(target=read, args=(accept,), daemon=True) for accept in ENCODINGS.values()]
        threads += [threading.Thread(target=watch, args=(n, port), daemon=True) for n, (_, port) in front.replicas().items()]
        for thread in threads:
            thread.start()
        time.sleep(2)
        article = content / "02-chongqing-yutong-shouhu.md"
        article.write_text(article.read_text(encoding="utf-8") + "\n\n滚动更新后的新段落。\n", encoding="utf-8")
        reloading = front.reload()
        front.wait_until(lambda: len(first_new) == 1, "the replica to serve the new page", timeout=120)
        assert reloading.wait(timeout=120) == 0
        time.sleep(4)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=30)
        front.stop()
    served = max(first_new.values())
    assert {status for _, status, _ in answers} == {200}
    late_old = [started - served for started, _, new in answers if started > served + 2 and not new]
    assert not late_old, f"{len(late_old)} old pages, the latest {max(late_old):.2f} s after"
    assert any(new for started, _, new in answers if started > served + 2)


def test_with_every_replica_down_pages_come_from_the_front_and_searches_ask_to_retry(tmp_path, content):
    front = Front(tmp_path, content, replicas=2, workers=2)
    try:
        kept = {path: through(front, path, "gzip, br") for path in (CQ, "/", "/zh-hant" + CQ, "/api" + CQ)}
        os.kill(front.pid("supervisord"), signal.SIGSTOP)  # it would start them again
        for pid, _ in front.replicas().values():
            os.killpg(pid, signal.SIGKILL)
        for _, port in front.replicas().values():
            front.wait_until(lambda port=port: refused(port), f"port {port} to close")
        time.sleep(2.1)  # past the front's 1 s (nginx counts whole seconds: a copy lives 1 to 2 s)
        for path, (_, _, body) in kept.items():
            status, now, again = through(front, path, "gzip, br")
            assert (status, now["X-Cache"], again) == (200, "STALE", body), path
        for path in (*NEVER_KEPT, "/never-asked-before/"):
            status, headers, body = through(front, path, "gzip")
            assert status == 503 and headers["Retry-After"] == "5", path
            if path.startswith("/api/"):
                assert json.loads(body)["status"] == 503
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(front.pid("supervisord"), signal.SIGCONT)
        front.stop()


def refused(port):
    with socket.socket() as sock:
        return sock.connect_ex(("127.0.0.1", port)) != 0


def test_the_systemd_unit_is_valid_and_starts_what_make_cluster_starts(tmp_path):
    """deploy/bulletins.service, its paths made this checkout's: systemd-analyze finds nothing
    to say, and its commands are deploy/run.py's own (its parser takes them)."""
    unit = (ROOT / "deploy" / "bulletins.service").read_text().replace("/srv/bulletins", str(ROOT))
    commands = dict(re.findall(r"^(ExecStart|ExecReload)=\S+ deploy/run\.py (.+)$", unit, re.MULTILINE))
    for name, arguments in commands.items():
        sys_argv, sys.argv = sys.argv, ["run.py", *shlex.split(arguments)]
        try:
            assert run.arguments().command == {"ExecStart": "start", "ExecReload": "reload"}[name]
        finally:
            sys.argv = sys_argv
    assert set(commands) == {"ExecStart", "ExecReload"}
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze is not installed (make test installs it on Debian)")
    (tmp_path / "bulletins.service").write_text(unit)
    checked = subprocess.run(["systemd-analyze", "verify", str(tmp_path / "bulletins.service")], capture_output=True, text=True, timeout=60)
    assert checked.returncode == 0 and "bulletins.service" not in checked.stderr, checked.stderr


def test_a_data_folder_of_any_depth_gets_a_control_socket_supervisord_can_bind():
    """A unix socket's path holds 107 bytes: past that, supervisord could not start."""
    deep, other = Path("/srv") / ("d" * 150), Path("/srv") / ("e" * 150)
    assert len(os.fsencode(run.Layout(deep, 1).socket)) <= 107
    assert run.Layout(deep, 1).socket == run.Layout(deep, 2).socket != run.Layout(other, 1).socket
    assert run.Layout(Path("/srv/var"), 1).socket == Path("/srv/var/supervisor/supervisord.sock")

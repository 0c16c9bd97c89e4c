"""Article pages rendered once at load and answered as stored bytes."""

import gzip
import os

import brotli
import pytest

from bulletins.loader import load_content
from bulletins.models import Article, Page
from bulletins.pages import highlighted, render_article
from bulletins.testing.processes import site_env

from .support import CONTENT, run_python

CQ = "chongqing-yutong-shouhu"
JIANGSU_FILE = "01-jiangsu-social-assistance-2023.md"

pytestmark = pytest.mark.django_db


def test_every_article_has_a_stored_page_equal_to_a_fresh_rendering():
    for article in Article.objects.all():
        page = Page.objects.get(article=article)
        assert bytes(page.html) == render_article(article, article.previous(), article.next()).encode()
        assert gzip.decompress(page.html_gzip) == bytes(page.html) == brotli.decompress(page.html_br)
        assert gzip.decompress(page.hant_gzip) == bytes(page.hant_html) == brotli.decompress(page.hant_br)


def test_a_page_is_answered_with_its_stored_bytes(client):
    page = Page.objects.get(article__slug=CQ)
    response = client.get(f"/articles/{CQ}/")
    assert response.content == bytes(page.html)
    assert response["ETag"] == page.etag and response["Content-Length"] == str(len(page.html))
    assert response["Vary"] == "Accept-Encoding" and "Content-Encoding" not in response


@pytest.mark.parametrize(
    "accept, coding",
    [("gzip, deflate", "gzip"), ("gzip, deflate, br", "br"), ("br", "br"), ("gzip, br;q=0", "gzip"), ("br;q=0, gzip;q=0", None)],
)
@pytest.mark.parametrize("path", [f"/articles/{CQ}/", f"/zh-hant/articles/{CQ}/"])
def test_browsers_get_the_stored_bytes_in_the_encoding_they_accept(client, path, accept, coding):
    """Issue 21: brotli is stored at load beside gzip, so that nginx passes it on; every
    encoding shares the page's one weak ETag."""
    response = client.get(path, HTTP_ACCEPT_ENCODING=accept)
    decompress = {"gzip": gzip.decompress, "br": brotli.decompress, None: bytes}[coding]
    assert response.get("Content-Encoding") == coding
    assert decompress(response.content) == client.get(path).content
    assert response["ETag"] == client.get(path)["ETag"] and response["Vary"] == "Accept-Encoding"


def test_a_missing_page_is_rendered_on_request(client):
    expected = client.get(f"/articles/{CQ}/").content
    Page.objects.filter(article__slug=CQ).delete()
    assert client.get(f"/articles/{CQ}/").content == expected


def test_marked_words_are_marked_on_request_not_stored(client, django_assert_num_queries):
    # The content's version (the page's validators), the stored page, and the index the query
    # is read against: nothing rendered.
    with django_assert_num_queries(3):
        html = client.get(f"/articles/{CQ}/", {"hl": "儿童主任"}).content.decode()
    assert "<mark>儿童主任</mark>" in html
    assert b"<mark>" not in bytes(Page.objects.get(article__slug=CQ).html)


@pytest.mark.parametrize("hl", ["儿童主任", "未成年人保护 保护 未保", "社会救助 2023", "class section href", "民政 一是 。"])
def test_a_page_opened_from_search_is_the_stored_page_marked_as_a_rendering_would_be(client, hl):
    marked = 0
    for article in Article.objects.all():
        path = article.get_absolute_url()
        expected = highlighted(render_article(article, article.previous(), article.next()), hl, path)
        assert client.get(path, {"hl": hl}).content.decode() == expected
        marked += "<mark>" in expected
    assert marked or hl.startswith("class")


@pytest.mark.parametrize("damage", [b"", b"\xff\xfe not even UTF-8", b"<html>another page</html>"])
@pytest.mark.parametrize("params", [{}, {"hl": "儿童主任"}])
def test_a_damaged_stored_page_is_rendered_and_stored_again(client, damage, params):
    expected = client.get(f"/articles/{CQ}/").content
    Page.objects.filter(article__slug=CQ).update(html=damage)
    response = client.get(f"/articles/{CQ}/", params)
    assert response.status_code == 200 and "渝童守护" in response.content.decode()
    assert bytes(Page.objects.get(article__slug=CQ).html) == expected


def test_a_page_not_stored_is_rendered_with_its_marks(client):
    expected = client.get(f"/articles/{CQ}/", {"hl": "儿童主任"}).content
    Page.objects.filter(article__slug=CQ).delete()
    assert client.get(f"/articles/{CQ}/", {"hl": "儿童主任"}).content == expected


def test_a_restart_with_nothing_changed_reads_and_renders_nothing(content_dir):
    load_content(content_dir)
    # Same size and modification time, other bytes: like make and git, the loader trusts the
    # file's stat and does not read it, which proves it reads nothing on such a restart.
    path = content_dir / JIANGSU_FILE
    stat = path.stat()
    data = path.read_bytes()
    path.write_bytes(data.replace("出席会议并讲话".encode(), "出席会议并作话".encode()))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    report = load_content(content_dir)
    assert report.loaded == [] and report.rendered == 0
    assert len(report.unchanged) == 3


def test_a_touched_file_is_read_once_and_its_new_stat_remembered(content_dir):
    load_content(content_dir)
    path = content_dir / JIANGSU_FILE
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    report = load_content(content_dir)
    assert report.loaded == [] and report.rendered == 0
    stat = path.stat()
    path.write_bytes(path.read_bytes().replace("出席会议并讲话".encode(), "出席会议并作话".encode()))
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert load_content(content_dir).loaded == []  # the touched stat was stored: not read again


def test_a_changed_body_renders_only_its_own_page(content_dir):
    load_content(content_dir)
    path = content_dir / JIANGSU_FILE
    path.write_text(path.read_text(encoding="utf-8").replace("出席会议并讲话", "出席会议并作讲话"), encoding="utf-8")
    report = load_content(content_dir)
    assert report.loaded == [JIANGSU_FILE] and report.rendered == 1
    assert "出席会议并作讲话" in bytes(Page.objects.get(article__source_path=JIANGSU_FILE).html).decode()


def test_a_changed_title_renders_its_page_and_its_neighbours(content_dir):
    load_content(content_dir)
    path = content_dir / JIANGSU_FILE
    path.write_text(path.read_text(encoding="utf-8").replace("title: 江苏省召开", "title: 江苏召开"), encoding="utf-8")
    assert load_content(content_dir).rendered == 2  # itself and the next one's pager; it has no previous
    assert "上一篇：江苏召开" in bytes(Page.objects.get(article__slug=CQ).html).decode().replace("<wbr>", "")


def test_removing_an_article_renders_the_pages_that_linked_to_it(content_dir):
    load_content(content_dir)
    (content_dir / "02-chongqing-yutong-shouhu.md").unlink()
    report = load_content(content_dir)
    assert report.removed == ["02-chongqing-yutong-shouhu.md"] and report.rendered == 2
    jiangsu = bytes(Page.objects.get(article__source_path=JIANGSU_FILE).html).decode()
    assert "下一篇：深圳" in jiangsu and CQ not in jiangsu


def test_serving_pages_does_not_load_jieba(tmp_path):
    """jieba's dictionary takes a second to load: the first page must not wait for it."""
    env = site_env(tmp_path, BULLETINS_CONTENT_DIR=CONTENT)
    assert run_python("import bulletins.wsgi", env, timeout=120).returncode == 0  # the first load segments
    code = """
import sys
import bulletins.wsgi
from django.test import Client
client = Client(HTTP_HOST="localhost")
assert client.get("/articles/chongqing-yutong-shouhu/").status_code == 200
assert client.get("/").status_code == 200
print("jieba loaded:", "jieba" in sys.modules)
assert client.get("/search/", {"q": "儿童主任"}).status_code == 200
print("jieba loaded:", "jieba" in sys.modules)
"""
    result = run_python(code, env, timeout=120)
    assert result.returncode == 0, result.stderr
    # Only the script's own lines: the background check's log lines may come between them.
    said = [line.split(": ", 1)[1] for line in result.stdout.splitlines() if line.startswith("jieba loaded: ")]
    assert said == ["False", "True"], result.stdout


def test_a_shared_link_with_other_parameters_still_gets_the_stored_page(client):
    response = client.get(f"/articles/{CQ}/", {"utm_source": "wechat"})
    assert response.content == bytes(Page.objects.get(article__slug=CQ).html)


def test_a_stored_page_refuses_a_host_outside_allowed_hosts(client):
    assert client.get(f"/articles/{CQ}/", HTTP_HOST="evil.example").status_code == 400

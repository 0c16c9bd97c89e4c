"""Traditional script (bulletins.traditional): every HTML page's twin under /zh-hant/, converted by
OpenCC, with the same ids, so a link to a section works in either script."""

import gzip
import re
from urllib.parse import quote

import pytest

from bulletins.models import Page
from bulletins.traditional import to_traditional

CQ = "/articles/chongqing-yutong-shouhu/"
TWINS = [
    "/",
    CQ,
    "/articles/jiangsu-social-assistance-2023/",
    f"/search/?q={quote('儿童主任')}",
    "/regions/",
    f"/regions/{quote('重庆市')}/",
    f"{CQ}?hl={quote('儿童')}",
]


def ids(html):
    return re.findall(r'\bid="([^"]+)"', html)


def test_text_and_what_is_read_aloud_are_converted_ids_and_targets_are_not():
    html = (
        '<html lang="zh-CN"><p id="一是专班推进-p1" title="简体">儿童发展<a class="headerlink" href="#一是专班推进" '
        'aria-label="本节的链接：一是专班推进"></a><a href="/articles/x/?hl=儿童#节">链接</a>'
        '<a href="/api/articles/">数据</a><a href="https://example.org/">外部</a></p>'
    )
    assert to_traditional(html) == (
        '<html lang="zh-Hant"><p id="一是专班推进-p1" title="簡體">兒童發展<a class="headerlink" href="#一是专班推进" '
        'aria-label="本節的鏈接：一是專班推進"></a><a href="/zh-hant/articles/x/?hl=儿童#节">鏈接</a>'
        '<a href="/api/articles/">數據</a><a href="https://example.org/">外部</a></p>'
    )


@pytest.mark.django_db
@pytest.mark.parametrize("path", TWINS)
def test_every_page_has_a_traditional_twin_with_the_same_ids(client, path):
    simplified, traditional = client.get(path), client.get("/zh-hant" + path)
    assert traditional.status_code == simplified.status_code == 200
    assert traditional["Content-Language"] == "zh-Hant"
    html = traditional.content.decode()
    assert '<html lang="zh-Hant">' in html and "民政公報" in html
    assert ids(html) == ids(simplified.content.decode())  # a link to a section works in either
    links = [re.search(r'href="([^"]*)"', tag)[1] for tag in re.findall(r"<a [^>]*>", html) if "hreflang" not in tag]
    data = [link for link in links if link.startswith(("/static/", "/api/", "/feeds/")) or link.endswith("/feed/")]
    assert all(link.startswith(("/zh-hant/", "#", "?")) for link in links if link not in data), links
    if simplified.has_header("ETag"):
        assert traditional["ETag"] != simplified["ETag"]


@pytest.mark.django_db
def test_both_scripts_name_each_other(client):
    for path in ("/", CQ):
        for html in (client.get(path).content.decode(), client.get("/zh-hant" + path).content.decode()):
            assert f'<link rel="alternate" hreflang="zh-Hans" href="{path}">' in html
            assert f'<link rel="alternate" hreflang="zh-Hant" href="/zh-hant{path}">' in html
    html = client.get("/zh-hant" + CQ).content.decode()
    assert f'<link rel="canonical" href="/zh-hant{CQ}">' in html


@pytest.mark.django_db
def test_traditional_articles_are_stored_like_the_simplified_ones(client):
    page = Page.objects.get(article__slug="chongqing-yutong-shouhu")
    response = client.get("/zh-hant" + CQ)
    assert response.content == bytes(page.hant_html) and response["ETag"] == page.hant_etag
    assert "重慶<wbr>啟動<wbr>“渝童守護”<wbr>行動" in response.content.decode()  # 啟, as Taiwan writes it (s2tw)
    zipped = client.get("/zh-hant" + CQ, HTTP_ACCEPT_ENCODING="gzip")
    assert zipped["Content-Encoding"] == "gzip" and gzip.decompress(zipped.content) == bytes(page.hant_html)
    assert client.get("/zh-hant" + CQ, HTTP_IF_NONE_MATCH=page.hant_etag).status_code == 304


@pytest.mark.django_db
@pytest.mark.parametrize("path", ["/zh-hant/api/articles/", "/zh-hant/feeds/atom/", "/zh-hant/sitemap.xml", "/zh-hant/nowhere/"])
def test_data_has_no_traditional_twin(client, path):
    assert client.get(path).status_code == 404


@pytest.mark.django_db
def test_a_search_in_traditional_pages_finds_and_marks_in_traditional(client):
    html = client.get("/zh-hant/search/", {"q": "兒童主任"}).content.decode()
    assert "<mark>兒童主任</mark>" in html
    result = re.search(r'<h2><a href="([^"]+)"', html).group(1)
    assert result.startswith("/zh-hant/articles/chongqing-yutong-shouhu/?hl=")
    marked = client.get(result.replace("&amp;", "&").split("#")[0]).content.decode()
    assert "<mark>兒童主任</mark>" in marked and '<html lang="zh-Hant">' in marked


@pytest.mark.django_db
@pytest.mark.parametrize("path", TWINS)
def test_a_traditional_page_says_the_sites_own_words_as_taiwan_writes_them_and_keeps_the_texts(client, path):
    """Issue 23: the page's own words were the simplified ones converted character by character
    (鏈接, 搜索, 打印); they now come from the edition's catalogue, while the bulletins' words are
    converted, never changed (信息 stays 信息 in a text, where the site itself says 資訊)."""
    html = client.get("/zh-hant" + path).content.decode()
    assert '<label class="visually-hidden" for="site-search">搜尋公報</label>' in html and "各地民政工作資訊原文發布" in html
    assert "搜索公" not in html and "鏈接" not in html.split("<main", 1)[0]
    if path == CQ:
        assert '<span data-message="copy-link">複製本節連結</span>' in html and ">列印</button>" in html
        assert 'aria-label="本節的連結：' in html
        text = html[html.index('<div class="bulletin-body">') : html.index('<aside class="related"')]
        assert "信息" in to_traditional("信息") and "資訊" not in text  # the text's own words, converted only

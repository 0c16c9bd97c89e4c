"""For the wider web: feeds, sitemap, robots.txt, canonical and Open Graph metadata, JSON."""

import datetime
import re
import xml.etree.ElementTree as ET
from urllib.parse import urlsplit

import pytest

from bulletins.models import Article
from bulletins.pages import render_article

from .test_serving import SECURITY_HEADERS

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
SLUGS = ["jiangsu-social-assistance-2023", "chongqing-yutong-shouhu", "shenzhen-civil-affairs-2023"]


def test_atom_feed_has_every_required_element(client):
    response = client.get("/feeds/atom/")
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)
    assert feed.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated", "author"):
        assert feed.find(f"{ATOM}{name}") is not None, name
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 3
    for entry in entries:
        for name in ("id", "title", "updated", "link", "summary"):
            assert entry.find(f"{ATOM}{name}") is not None, name
        assert entry.find(f"{ATOM}link").get("href").startswith("http://testserver/articles/")
    published = {e.find(f"{ATOM}link").get("href").split("/")[-2]: e.findtext(f"{ATOM}published") for e in entries}
    # The day the text states, else the day the bulletin joined the archive; never a load's.
    assert published == {
        "jiangsu-social-assistance-2023": "2023-02-24T00:00:00+08:00",
        "chongqing-yutong-shouhu": "2026-11-30T00:00:00+08:00",
        "shenzhen-civil-affairs-2023": "2026-11-30T00:00:00+08:00",
    }
    # Issue 23: <updated>, which feed readers show, said 2026 for Jiangsu where RSS said 2023.
    assert all(e.findtext(f"{ATOM}updated") == e.findtext(f"{ATOM}published") for e in entries)
    rss = ET.fromstring(client.get("/feeds/rss/").content)
    for item in rss.iter("item"):
        slug = item.findtext("link").split("/")[-2]
        assert datetime.datetime.strptime(item.findtext("pubDate"), "%a, %d %b %Y %H:%M:%S %z").isoformat() == published[slug]
    # Whole texts, both dates labelled, and no permalink a reader could not follow.
    jiangsu = next(e for e in entries if "jiangsu" in e.find(f"{ATOM}link").get("href"))
    content = jiangsu.findtext(f"{ATOM}content")
    assert jiangsu.find(f"{ATOM}content").get("type") == "html"
    assert "原文日期：<time" in content and "收录日期：<time" in content and "（据江苏省民政厅）" in content
    for paragraph in Article.objects.get(slug="jiangsu-social-assistance-2023").sections.first().paragraphs:
        assert paragraph[:20] in re.sub(r"<[^>]+>", "", content)
    assert "headerlink" not in content and "pilcrow" not in content
    chongqing = next(i for i in rss.iter("item") if "chongqing" in i.findtext("link")).findtext("description")
    assert "原文日期：原文未注明" in chongqing and "二是典型示范" in chongqing


def test_rss_feed_has_every_required_element(client):
    response = client.get("/feeds/rss/")
    assert response["Content-Type"].startswith("application/rss+xml")
    rss = ET.fromstring(response.content)
    assert rss.tag == "rss" and rss.get("version") == "2.0"
    channel = rss.find("channel")
    for name in ("title", "link", "description"):
        assert channel.findtext(name), name
    items = channel.findall("item")
    assert {item.findtext("link").split("/")[-2] for item in items} == set(SLUGS)
    for item in items:
        assert item.findtext("title") and item.findtext("description")


SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


def sitemap_locations(client):
    """Every location the sitemap index leads to, following it to each sitemap."""
    index = ET.fromstring(client.get("/sitemap.xml").content)
    assert index.tag == f"{SITEMAP}sitemapindex"
    locations = []
    for sitemap in index.findall(f"{SITEMAP}sitemap"):
        url = urlsplit(sitemap.findtext(f"{SITEMAP}loc"))
        urlset = ET.fromstring(client.get(url.path + (f"?{url.query}" if url.query else "")).content)
        locations += [(url.netloc, loc.findtext(f"{SITEMAP}loc")) for loc in urlset.findall(f"{SITEMAP}url")]
    return locations


def test_sitemap_lists_home_and_every_bulletin(client):
    assert sitemap_locations(client) == [("testserver", "http://testserver/")] + [
        ("testserver", f"http://testserver/articles/{slug}/") for slug in SLUGS
    ]


def test_a_sitemap_holds_at_most_10000_urls_and_the_index_lists_them_all(client, monkeypatch):
    from bulletins.sitemaps import ArticleSitemap

    monkeypatch.setattr(ArticleSitemap, "limit", 2)  # as 10,000 is to an archive of tens of thousands
    index = ET.fromstring(client.get("/sitemap.xml").content)
    assert len(index.findall(f"{SITEMAP}sitemap")) == 3  # home, articles p1, articles p2
    assert [loc for _, loc in sitemap_locations(client)][1:] == [f"http://testserver/articles/{slug}/" for slug in SLUGS]


def test_absolute_urls_come_from_the_site_url_when_it_is_set(client, settings):
    settings.BULLETINS_SITE_URL = "https://gongbao.example.cn"
    for host in ("localhost", "127.0.0.1:8000"):
        urls = [loc for _, loc in sitemap_locations(client)]
        assert urls and all(url.startswith("https://gongbao.example.cn/") for url in urls)
        index = client.get("/sitemap.xml", HTTP_HOST=host).content.decode()
        assert "https://gongbao.example.cn/sitemap-home.xml" in index and host not in index
        for path in ("/feeds/atom/", "/feeds/rss/", "/robots.txt", "/api/articles/", "/api/search?q=儿童"):
            body = client.get(path, HTTP_HOST=host).content.decode()
            assert "https://gongbao.example.cn/" in body and f"//{host}" not in body, path


def test_without_a_site_url_each_host_has_its_own_validators(client):
    a = client.get("/api/articles/", HTTP_HOST="localhost")
    b = client.get("/api/articles/", HTTP_HOST="127.0.0.1")
    assert a["ETag"] != b["ETag"]
    assert client.get("/api/articles/", HTTP_HOST="127.0.0.1", HTTP_IF_NONE_MATCH=a["ETag"]).status_code == 200


@pytest.mark.parametrize("url", ["/api/articles/missing/", "/api/search?q=", "/api/search?q=儿童&limit=x", "/nowhere/"])
def test_a_url_that_does_not_answer_200_never_answers_304(client, url):
    modified = client.get("/")["Last-Modified"]
    etag = client.get("/")["ETag"]
    for headers in ({"HTTP_IF_MODIFIED_SINCE": modified}, {"HTTP_IF_NONE_MATCH": "*"}, {"HTTP_IF_NONE_MATCH": etag}):
        assert client.get(url, **headers).status_code in (400, 404), headers


def test_robots_txt_points_at_the_sitemap_and_keeps_crawlers_off_search(client):
    response = client.get("/robots.txt")
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    text = response.content.decode()
    assert "Sitemap: http://testserver/sitemap.xml" in text and "Disallow: /search/" in text


def test_article_has_canonical_url_and_open_graph(client):
    html = client.get("/articles/chongqing-yutong-shouhu/").content.decode()
    assert '<link rel="canonical" href="/articles/chongqing-yutong-shouhu/">' in html
    assert "og:url" not in html  # no absolute URL to give without BULLETINS_SITE_URL
    assert '<meta property="og:type" content="article">' in html
    assert '<meta property="og:title" content="重庆启动“渝童守护”行动 进一步健全未成年人保护体系">' in html
    assert re.search(r'<meta property="og:description" content="记者从重庆市民政局了解到，[^"]+">', html)
    assert '<link rel="alternate" type="application/atom+xml"' in html


def test_canonical_and_open_graph_urls_are_absolute_under_the_site_url(client, settings):
    settings.BULLETINS_SITE_URL = "https://gongbao.example.cn"
    article = Article.objects.get(slug="chongqing-yutong-shouhu")
    html = render_article(article, article.previous(), article.next())
    assert '<link rel="canonical" href="https://gongbao.example.cn/articles/chongqing-yutong-shouhu/">' in html
    assert '<meta property="og:url" content="https://gongbao.example.cn/articles/chongqing-yutong-shouhu/">' in html
    home = client.get("/").content.decode()
    assert '<meta property="og:url" content="https://gongbao.example.cn/">' in home


def test_favicon_is_linked_and_served(client):
    html = client.get("/").content.decode()
    icon = re.search(r'<link rel="icon" href="([^"]+)"', html).group(1)
    assert client.get(icon).status_code == 200


def test_api_lists_every_article_as_data(client):
    data = client.get("/api/articles/").json()
    assert data["total"] == 3 and data["next"] is None
    assert [a["slug"] for a in data["articles"]] == SLUGS
    first = data["articles"][0]
    assert first["source"] == "江苏省民政厅" and first["date"] == "2023-02-24" and first["added"] == "2026-11-30"
    assert first["api_url"] == f"http://testserver/api/articles/{SLUGS[0]}/"


def test_api_articles_pages_through(client):
    data = client.get("/api/articles/", {"limit": 2}).json()
    assert len(data["articles"]) == 2 and data["next"] == "http://testserver/api/articles/?limit=2&offset=2"
    assert client.get("/api/articles/", {"limit": "x"}).status_code == 400


def test_api_article_has_its_sections_and_their_urls(client):
    data = client.get("/api/articles/chongqing-yutong-shouhu/").json()
    assert data["title"] == "重庆启动“渝童守护”行动 进一步健全未成年人保护体系"
    titled = [s for s in data["sections"] if s["title"]]
    assert len(titled) == 9
    section = titled[0]
    assert section["id"] == "健全1n制度体系"
    assert section["url"] == "http://testserver/articles/chongqing-yutong-shouhu/#%E5%81%A5%E5%85%A81n%E5%88%B6%E5%BA%A6%E4%BD%93%E7%B3%BB"
    assert section["paragraphs"][0]["id"] == "健全1n制度体系-p1"
    assert section["paragraphs"][0]["text"].startswith("“1”，即落实《中华人民共和国未成年人保护法》")
    assert client.get("/api/articles/nothing/").status_code == 404


@pytest.mark.parametrize("url", ["/feeds/atom/", "/feeds/rss/", "/sitemap.xml", "/robots.txt", "/api/articles/"])
def test_feeds_and_data_carry_the_security_headers_and_validators(client, url):
    response = client.get(url)
    for header, value in SECURITY_HEADERS.items():
        assert response.headers.get(header) == value, header
    assert response["ETag"] and client.get(url, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304


def test_related_bulletins_share_key_words_and_never_name_themselves(client):
    response = client.get("/api/articles/chongqing-yutong-shouhu/related")
    assert response.status_code == 200 and response["ETag"]
    related = response.json()["related"]
    assert related and "chongqing-yutong-shouhu" not in [item["slug"] for item in related]
    assert all(item["url"].endswith(f"/articles/{item['slug']}/") for item in related)
    traditional = client.get("/api/articles/chongqing-yutong-shouhu/related", {"script": "hant"}).json()["related"]
    assert [item["slug"] for item in traditional] == [item["slug"] for item in related]
    assert all("/zh-hant/articles/" in item["url"] for item in traditional)
    assert any(a["title"] != b["title"] for a, b in zip(related, traditional, strict=False))  # 江苏省 → 江蘇省, 会议 → 會議
    assert client.get("/api/articles/nothing-here/related").status_code == 404


@pytest.mark.parametrize(
    "url, status, names",
    [
        ("/api/search", 400, "q"),
        ("/api/search?q=儿童&limit=x&offset=-1", 400, "limit"),
        ("/api/search?q=儿童&offset=10001", 400, "offset"),
        ("/api/articles/?offset=１", 400, "offset"),
        ("/api/articles/?offset=99999999999999999999", 400, "offset"),
        ("/api/articles/nothing-here/", 404, None),
        ("/api/articles/nothing-here/related", 404, None),
    ],
)
def test_every_api_error_has_one_shape(client, url, status, names):
    response = client.get(url)
    body = response.json()
    assert response.status_code == body["status"] == status
    assert isinstance(body["error"], str) and body["error"]
    if names:
        assert body["error"].startswith(names) and names in body["fields"]
        assert all(isinstance(message, str) for messages in body["fields"].values() for message in messages)


def test_api_search_names_every_bad_parameter_at_once(client):
    body = client.get("/api/search", {"q": "儿童", "limit": "x", "offset": "10001"}).json()
    assert body["fields"] == {"limit": ["must be a whole number"], "offset": ["must be at most 10000"]}
    assert body["error"] == "limit must be a whole number; offset must be at most 10000"


def test_a_search_page_number_that_is_not_one_is_the_first_page(client):
    first = client.get("/search/", {"q": "儿童"}).content.decode().count("data-bulletin=")
    assert first >= 2
    for page in ("x", "0", "１", "1_0", "99999999"):
        response = client.get("/search/", {"q": "儿童", "page": page})
        assert response.status_code == 200 and response.content.decode().count("data-bulletin=") == first, page

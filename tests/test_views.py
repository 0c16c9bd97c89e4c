"""bulletins.views: the pages a reader gets, through the real URL conf and templates."""

import re
from html import unescape
from urllib.parse import quote

import pytest

pytestmark = pytest.mark.django_db


def text_of(html):
    return unescape(re.sub(r"<[^>]+>", "", html))


def test_home_lists_the_bulletins_in_order_with_their_metadata(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    positions = [
        html.index(f'href="/articles/{slug}/"')
        for slug in ("jiangsu-social-assistance-2023", "chongqing-yutong-shouhu", "shenzhen-civil-affairs-2023")
    ]
    assert positions == sorted(positions)
    for expected in (
        "江苏省",
        "来源：江苏省民政厅",
        "本报记者 皮磊",
        "重庆市",
        "深圳市",
        "2月24日，江苏省召开2023年全省社会救助工作会议。",
    ):
        assert expected in html


def test_article_page_shows_title_metadata_toc_and_text(client):
    html = client.get("/articles/chongqing-yutong-shouhu/").content.decode()
    assert "<h1>重庆<wbr>启动<wbr>“渝童守护”<wbr>行动 <wbr>进一步<wbr>健全<wbr>未成年人保护<wbr>体系</h1>" in html
    html = html.replace("<wbr>", "")
    # 本报 names no paper here: the text gives none, and the page says so rather than guess one.
    assert '<dd class="byline">本报记者 皮磊<span class="outlet-unknown">（原文未注明报纸名称）</span></dd>' in html
    start = html.index('<nav class="toc"')
    toc = html[start : html.index("</nav>", start)]
    assert toc.count("<li") == 9 and 'href="#一是专班推进"' in toc
    assert "扁平化协调" in html


def test_every_section_has_an_id_and_a_visible_permalink(client):
    html = client.get("/articles/chongqing-yutong-shouhu/").content.decode()
    for anchor in ("健全1n制度体系", "强化基层能力建设", "四是正向激励"):
        assert f'<section id="{anchor}"' in html
        assert f'class="headerlink" href="#{anchor}"' in html
    assert '<section id="lead"' in html and '<section id="part-7"' in html


def test_every_paragraph_has_an_id(client):
    html = client.get("/articles/shenzhen-civil-affairs-2023/").content.decode()
    assert re.findall(r'<p id="(lead-p\d)">', html) == ["lead-p1", "lead-p2", "lead-p3", "lead-p4"]
    assert html.count('class="pilcrow"') == 4


def test_attribution_closes_the_article(client):
    html = client.get("/articles/jiangsu-social-assistance-2023/").content.decode()
    assert '<p class="attribution" id="source">（据江苏省民政厅）</p>' in html
    assert '<nav class="toc"' not in html  # no sections, no table of contents


def test_provenance_shows_each_fact_once_and_both_dates_labelled(client):
    """Issue 23: Chongqing showed only 收录日期 2026年11月30日, which read as its own date."""
    html = client.get("/articles/jiangsu-social-assistance-2023/").content.decode()
    block = html[html.index('<dl class="provenance">') : html.index("</dl>")]
    assert f'<dt>地区</dt><dd class="region"><a href="/regions/{quote("江苏省")}/">江苏省</a></dd>' in block
    assert '<dt>原文日期</dt><dd><time datetime="2023-02-24">2023年2月24日</time></dd>' in block
    assert '<dt>收录日期</dt><dd><time datetime="2026-11-30">2026年11月30日</time></dd>' in block
    main = html[html.index("<main") : html.index("</main>")]
    assert main.count("（据江苏省民政厅）") == 1 and "来源" not in main  # the text's own line, not a second 来源
    chongqing = client.get("/articles/chongqing-yutong-shouhu/").content.decode()
    block = chongqing[chongqing.index('<dl class="provenance">') : chongqing.index("</dl>")]
    assert "<dt>署名</dt>" in block and '<dt>原文日期</dt><dd><span class="undated">原文未注明</span></dd>' in block
    assert '<dt>收录日期</dt><dd><time datetime="2026-11-30">2026年11月30日</time></dd>' in block


@pytest.mark.parametrize("path", ["/", "/regions/%E9%87%8D%E5%BA%86%E5%B8%82/", "/regions/", "/years/2023/"])
def test_lists_label_each_date_and_say_where_undated_bulletins_are(client, path):
    html = client.get(path).content.decode()
    assert "原文日期是公报原文所载的日期" in html  # the rule, on every page
    if path in ("/regions/", "/years/2023/"):
        assert "原文未注明日期的 2 篇不归入任何年份" in html
    cards = re.findall(r'<p class="meta">.*?</p>', html, re.S)
    for card in cards:
        assert ("原文日期 " in card) != ("原文未注明日期" in card) and "收录日期 " in card, card


def test_home_reads_newest_first_on_request(client, content_dir):
    (content_dir / "04-newer.md").write_text(
        "---\ntitle: 后来收录的公报\nslug: newer\norder: 9\nadded: 2026-12-01\n---\n\n一段正文。\n", encoding="utf-8"
    )
    from bulletins.loader import load_content

    load_content(content_dir)
    default, newest = client.get("/").content.decode(), client.get("/?order=newest").content.decode()
    assert default.index("/articles/newer/") > default.index("/articles/shenzhen-civil-affairs-2023/")
    assert newest.index("/articles/newer/") < newest.index("/articles/jiangsu-social-assistance-2023/")
    assert '<span aria-current="true">最新收录</span>' in newest and 'href="?order=newest"' in default


def test_previous_and_next_bulletin(client):
    html = client.get("/articles/chongqing-yutong-shouhu/").content.decode()
    assert 'rel="prev" href="/articles/jiangsu-social-assistance-2023/"' in html
    assert 'rel="next" href="/articles/shenzhen-civil-affairs-2023/"' in html


def test_unknown_slug_is_a_404_in_chinese_linking_home(client):
    response = client.get("/articles/no-such-bulletin/")
    assert response.status_code == 404
    html = response.content.decode()
    assert '<html lang="zh-CN">' in html and "找不到这个页面" in html and '<a href="/">返回首页</a>' in html


def test_static_files_have_hashed_names(client):
    html = client.get("/").content.decode()
    assert re.search(r'href="/static/bulletins/site\.[0-9a-f]{12}\.css"', html)


def test_home_pages_through_a_large_archive(client, content_dir, settings):
    from bulletins.loader import load_content

    for n in range(4, 8):
        (content_dir / f"0{n}-extra.md").write_text(
            f"---\ntitle: 补充公报{n}\nslug: extra-{n}\norder: {n}\n---\n\n正文。\n", encoding="utf-8"
        )
    load_content(content_dir)
    settings.BULLETINS_PER_PAGE = 3
    first = client.get("/").content.decode()
    assert first.count('class="bulletin-card"') == 3 and 'rel="next" href="?page=2"' in first
    last = client.get("/", {"page": 3}).content.decode().replace("<wbr>", "")  # where a title may break
    assert last.count('class="bulletin-card"') == 1 and "补充公报7" in last
    assert client.get("/", {"page": "abc"}).status_code == 200


def test_regions_list_every_region_with_its_bulletins(client):
    html = client.get("/regions/").content.decode()
    for name in ("江苏省", "重庆市", "深圳市"):
        assert f'<a href="/regions/{quote(name)}/">{name}</a>（1 篇）' in html


def test_a_region_lists_its_own_bulletins_and_has_its_own_feed(client):
    html = client.get(f"/regions/{quote('重庆市')}/").content.decode()
    assert "/articles/chongqing-yutong-shouhu/" in html and "/articles/jiangsu-social-assistance-2023/" not in html
    assert f'href="/regions/{quote("重庆市")}/feed/"' in html
    feed = client.get(f"/regions/{quote('重庆市')}/feed/")
    assert feed["Content-Type"].startswith("application/atom+xml")
    body = feed.content.decode()
    assert body.count("<entry>") == 1 and "渝童守护" in body and "<title>民政公报 · 重庆市</title>" in body
    assert client.get(f"/regions/{quote('火星')}/").status_code == 404
    assert client.get(f"/regions/{quote('火星')}/feed/").status_code == 404


def test_an_article_leads_to_its_region_from_its_breadcrumb_and_its_end(client):
    html = client.get("/articles/shenzhen-civil-affairs-2023/").content.decode()
    crumb = re.search(r'<nav class="breadcrumb" aria-label="位置">(.*?)</nav>', html, re.S).group(1)
    assert re.findall(r'href="([^"]+)"', crumb) == ["/", f"/regions/{quote('深圳市')}/"]
    assert f'<p class="more-from">更多深圳市的公报：<a href="/regions/{quote("深圳市")}/">' in html  # at the end, the region's others


def test_years_the_texts_date_can_be_browsed(client):
    html = client.get("/regions/").content.decode()
    assert '<a href="/years/2023/">2023年</a>（1 篇）' in html  # Jiangsu's meeting; the others date nothing
    year = client.get("/years/2023/").content.decode()
    assert "/articles/jiangsu-social-assistance-2023/" in year and "/articles/chongqing-yutong-shouhu/" not in year
    assert 'class="sort"' not in year  # dated: latest first, no other order offered
    assert client.get("/years/2026/").status_code == 404  # the day a bulletin joined the archive is not its date
    assert client.get("/zh-hant/years/2023/").status_code == 200
    feed = client.get("/years/2023/feed/").content.decode()
    assert feed.count("<entry>") == 1 and "<title>民政公报 · 2023年</title>" in feed and 'href="/years/2023/feed/"' in year
    assert client.get("/years/2026/feed/").status_code == 404
    for year in ("0", "10000", "9" * 30):  # no date has such a year: 404, not the 500 of date(year, 1, 1)
        assert client.get(f"/years/{year}/").status_code == 404 and client.get(f"/years/{year}/feed/").status_code == 404


def test_a_failure_answers_the_500_page_with_the_way_home(rf):
    from bulletins.views import server_error

    request = rf.get("/anywhere/", HTTP_HOST="localhost")
    try:
        raise ValueError("a bug")
    except ValueError:
        response = server_error(request)
    assert response.status_code == 500
    assert '<a href="/">返回首页</a>' in response.content.decode()


@pytest.mark.parametrize("prefix", ["/", "/gongbao/"])
def test_an_article_url_is_what_urls_py_reverses_to(prefix):
    from django.urls import get_script_prefix, reverse, set_script_prefix

    from bulletins.models import Article

    before = get_script_prefix()
    set_script_prefix(prefix)
    try:
        for article in [*Article.objects.all(), Article(slug="a-b_9")]:
            assert article.get_absolute_url() == reverse("article", kwargs={"slug": article.slug})
            assert article.get_absolute_url().startswith(prefix)
    finally:
        set_script_prefix(before)


@pytest.mark.parametrize("path", ["/articles/jiangsu-social-assistance-2023/", "/", "/api/articles/"])
@pytest.mark.parametrize(
    ("accept", "gzipped", "brotli"),
    [
        ("gzip;q=0", False, False),
        ("gzip; q=0.0, br", False, True),
        ("br;q=1, gzip;q=0.5", True, True),
        ("gzip, deflate, br", True, True),
        ("gzip, br;q=0", True, False),
    ],
)
def test_compressed_only_as_the_request_accepts_with_a_weight_above_zero(client, path, accept, gzipped, brotli):
    """Issue 22: Accept-Encoding: gzip;q=0 got gzip. Issue 21: an article page is stored in
    brotli too; other pages are gzipped or plain, and nginx compresses the plain ones."""
    response = client.get(path, HTTP_ACCEPT_ENCODING=accept)
    stored = path.startswith("/articles/")
    expected = "br" if stored and brotli else "gzip" if gzipped else None
    assert response.status_code == 200 and response.get("Content-Encoding") == expected
    assert "Accept-Encoding" in response["Vary"]


def test_every_api_answer_is_json_errors_included(client):
    """Issue 22: an unknown /api/ path and a 405 on the API answered HTML."""
    response = client.get("/api/no-such-thing")
    assert response.status_code == 404 and response.json() == {"error": "no such address in the API", "status": 404}
    response = client.post("/api/search", {"q": "儿童"})
    assert response.status_code == 405 and response.json()["status"] == 405 and response["Allow"] == "GET, HEAD"
    assert client.post("/search/").status_code == 405 and "Allow" in client.post("/search/")


def test_a_related_search_over_its_budget_is_a_503_that_no_cache_keeps(client, settings):
    """Issue 22: it answered 200 {"related": []} with the real answer's validators."""
    settings.BULLETINS_SEARCH_BUDGET_MS = 0
    response = client.get("/api/articles/jiangsu-social-assistance-2023/related")
    assert response.status_code == 503 and response["Retry-After"] == "5"
    assert "ETag" not in response and "s-maxage" not in response.get("Cache-Control", "")

"""bulletins.views: the pages a reader gets, through the real URL conf and templates."""

import re
from html import unescape

import pytest

pytestmark = pytest.mark.django_db


def text_of(html):
    return unescape(re.sub(r"<[^>]+>", "", html))


def test_home_lists_the_bulletins_in_order_with_their_metadata(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    positions = [html.index(f'href="/articles/{slug}/"') for slug in (
        "jiangsu-social-assistance-2023", "chongqing-yutong-shouhu", "shenzhen-civil-affairs-2023")]
    assert positions == sorted(positions)
    for expected in ("江苏省", "来源：江苏省民政厅", "本报记者 皮磊", "重庆市", "深圳市",
                     "2月24日，江苏省召开2023年全省社会救助工作会议。"):
        assert expected in html


def test_article_page_shows_title_metadata_toc_and_text(client):
    html = client.get("/articles/chongqing-yutong-shouhu/").content.decode()
    assert "<h1>重庆启动“渝童守护”行动 进一步健全未成年人保护体系</h1>" in html
    assert '<span class="byline">本报记者 皮磊</span>' in html
    toc = html[html.index('<nav class="toc"'):html.index("</nav>")]
    assert toc.count("<li") == 9 and 'href="#一是专班推进"' in toc
    assert "扁平化协调" in html


def test_every_section_has_an_id_and_a_visible_permalink(client):
    html = client.get("/articles/chongqing-yutong-shouhu/").content.decode()
    for anchor in ("健全1n制度体系", "强化基层能力建设", "四是正向激励"):
        assert f'<section id="{anchor}"' in html
        assert f'<a class="headerlink" href="#{anchor}"' in html
    assert '<section id="lead"' in html and '<section id="part-7"' in html


def test_every_paragraph_has_an_id(client):
    html = client.get("/articles/shenzhen-civil-affairs-2023/").content.decode()
    assert re.findall(r'<p id="(lead-p\d)">', html) == ["lead-p1", "lead-p2", "lead-p3", "lead-p4"]
    assert html.count('class="pilcrow"') == 4


def test_attribution_closes_the_article(client):
    html = client.get("/articles/jiangsu-social-assistance-2023/").content.decode()
    assert '<p class="attribution">（据江苏省民政厅）</p>' in html
    assert "<nav class=\"toc\"" not in html  # no sections, no table of contents


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
        (content_dir / f"0{n}-extra.md").write_text(f"---\ntitle: 补充公报{n}\nslug: extra-{n}\norder: {n}\n---\n\n正文。\n", encoding="utf-8")
    load_content(content_dir)
    settings.BULLETINS_PER_PAGE = 3
    first = client.get("/").content.decode()
    assert first.count('class="bulletin-card"') == 3 and 'rel="next" href="?page=2"' in first
    last = client.get("/", {"page": 3}).content.decode()
    assert last.count('class="bulletin-card"') == 1 and "补充公报7" in last
    assert client.get("/", {"page": "abc"}).status_code == 200

"""bulletins.search: what readers type, where they land, and what no input can break.

Runs the real app against the real content, loaded into the test database by the loader.
"""

import itertools
import json
import re
from html.parser import HTMLParser
from urllib.parse import quote, unquote, urlsplit

import jieba
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from django.db import connection
from django.test.utils import CaptureQueriesContext

from bulletins import search
from bulletins.loader import load_content
from bulletins.models import Section

from .support import FIXTURES, run_python, site_env

pytestmark = pytest.mark.django_db

CQ = "chongqing-yutong-shouhu"
JS = "jiangsu-social-assistance-2023"
SZ = "shenzhen-civil-affairs-2023"

# (query, where the first result must land: slug#fragment)
LANDINGS = [
    # words that stand apart, typed without spaces; 重庆 stands only in the article title
    ("重庆学校安全", f"{CQ}#筑牢安全守护防线"),
    ("重庆儿童主任", f"{CQ}#强化基层能力建设"),
    ("重庆的儿童主任", f"{CQ}#强化基层能力建设"),
    ("乡镇街道未保工作站", f"{CQ}#完善四级工作网络"),
    ("江苏社会救助会议", f"{JS}#lead-p1"),
    ("深圳低保标准是多少", f"{SZ}#lead-p3"),
    # the field's own words
    ("儿童主任", f"{CQ}#强化基层能力建设"),
    ("五社联动", f"{CQ}#强化基层能力建设"),
    ("留守儿童", f"{CQ}#加大精准保障力度"),
    ("十防", f"{CQ}#筑牢安全守护防线"),
    ("网吧", f"{CQ}#筑牢安全守护防线"),
    ("专班推进", f"{CQ}#一是专班推进"),
    ("典型示范", f"{CQ}#二是典型示范"),
    ("每季度一调度", f"{CQ}#三是定期调度"),
    ("考核指标", f"{CQ}#四是正向激励"),
    ("未成年人保护条例", f"{CQ}#健全1n制度体系"),
    ("中华人民共和国未成年人保护法", f"{CQ}#健全1n制度体系"),
    ("1+N", f"{CQ}#健全1n制度体系"),
    ("标准化技术委员会", f"{CQ}#健全1n制度体系"),
    ("赵庭朴", f"{JS}#lead-p1"),
    ("副厅长", f"{JS}#lead-p1"),
    ("低收入人口动态监测", f"{JS}#lead-p2"),
    ("核对中心", f"{JS}#lead-p4"),
    ("交流发言", f"{JS}#lead-p4"),
    ("陈清", f"{SZ}#lead-p1"),
    ("十连冠", f"{SZ}#lead-p2"),
    ("抗疫捐赠", f"{SZ}#lead-p3"),
    ("慈善社工事业", f"{SZ}#lead-p4"),
    ("养老服务体系", f"{SZ}#lead-p4"),
    # where the extraction had split a word: the repaired text is found whole
    ("扁平化协调", f"{CQ}#一是专班推进"),
    ("困境儿童关爱", f"{CQ}#加大精准保障力度"),
    ("博大内涵", f"{JS}#lead-p3"),
    ("申请更加便捷", f"{JS}#lead-p4"),
    ("六连涨", f"{SZ}#lead-p3"),
    # numbers and codes, which FTS5 syntax would otherwise misread
    ("80%乡镇", f"{CQ}#完善四级工作网络"),
    ("2.6亿元", f"{SZ}#lead-p3"),
    ("8522.58万元", f"{SZ}#lead-p3"),
    ("智志助老e站", f"{SZ}#lead-p3"),
    # traditional script
    ("養老服務體系", f"{SZ}#lead-p4"),
    ("兒童主任", f"{CQ}#强化基层能力建设"),
    ("網吧", f"{CQ}#筑牢安全守护防线"),
    # abbreviations and their long forms
    ("未保", f"{CQ}#完善四级工作网络"),
    ("低保", f"{SZ}#lead-p3"),
    ("事实孤儿", f"{CQ}#加大精准保障力度"),
    ("社工", f"{CQ}#强化基层能力建设"),
    # spaces and quotes
    ("儿童主任 考核", f"{CQ}#强化基层能力建设"),
    ('"兜住底、兜准底"', f"{JS}#lead-p4"),
    ("“兜住底、兜准底”", f"{JS}#lead-p4"),
]

NOTHING = ["北京", "人工智能", "养老保险", "儿童主任 北京", "重庆 深圳", '"社会救助 培训"', "zzzz"]


def landing(result):
    url = urlsplit(result.url)
    return f"{url.path.split('/')[2]}#{unquote(url.fragment)}"


@pytest.mark.parametrize(("query", "expected"), LANDINGS, ids=[q for q, _ in LANDINGS])
def test_first_result_lands_on_the_section_meant(query, expected):
    found = search.search(query)
    assert found.results, f"nothing found for {query}"
    assert landing(found.results[0]) == expected


@pytest.mark.parametrize("query", NOTHING)
def test_queries_that_must_find_nothing(query):
    assert search.search(query).total == 0


def published_paragraphs():
    for section in Section.objects.select_related("article"):
        for index, paragraph in enumerate(section.paragraphs):
            yield section, index, paragraph


def test_every_verbatim_substring_finds_its_section():
    """Substrings of 2 to 8 characters, from every 5th position of every paragraph."""
    checked = 0
    for section, _, paragraph in published_paragraphs():
        for start, length in itertools.product(range(0, len(paragraph), 5), range(2, 9)):
            piece = paragraph[start : start + length]
            if len(piece) < 2 or not (piece[0].isalnum() and piece[-1].isalnum()):
                continue
            hits, _, _ = search.matches(search.parse_query(piece), limit=100)
            assert section.pk in {hit.section_id for hit in hits}, f"{piece!r} misses {section}"
            checked += 1
    assert checked > 2000


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_any_sampled_phrase_is_found_and_linked_to_a_paragraph_holding_it(data):
    paragraphs = list(published_paragraphs())
    section, _, paragraph = data.draw(st.sampled_from(paragraphs))
    start = data.draw(st.integers(0, len(paragraph) - 2))
    piece = paragraph[start : start + data.draw(st.integers(2, 20))]
    piece = piece.strip("，。、；：“”（）《》 ")
    if sum(ch.isalnum() for ch in piece) < 2:  # the promise is for two or more letters or digits
        return
    found = search.search(f'"{piece}"', limit=50)
    sections = {result.section.pk: result for result in found.results}
    assert section.pk in sections
    target = unquote(urlsplit(sections[section.pk].url).fragment)
    n = int(target.rsplit("-p", 1)[1]) - 1 if "-p" in target else 0
    assert piece in section.paragraphs[n]


def test_word_matches_rank_above_bigram_only_matches(tmp_path):
    load_content(FIXTURES / "ranking")
    found = search.search("会议")
    assert [r.section.article.slug for r in found.results] == ["word-match", "bigram-only"]


def test_title_weighs_above_body(tmp_path):
    found = search.search("典型示范")
    # 二是典型示范 carries the words in its title; the lead has them once in its body.
    assert [landing(r) for r in found.results[:2]] == [f"{CQ}#二是典型示范", f"{CQ}#lead-p1"]


def test_results_can_be_narrowed_to_a_region():
    everywhere = search.search("儿童")
    assert set(everywhere.regions) == {"重庆市", "深圳市"}
    assert sum(everywhere.regions.values()) == everywhere.total
    shenzhen = search.search("儿童", region="深圳市")
    assert shenzhen.total == everywhere.regions["深圳市"]
    assert {r.section.article.region for r in shenzhen.results} == {"深圳市"}


def test_snippet_marks_the_words_around_the_best_match():
    result = search.search("扁平化协调").results[0]
    assert "<mark>扁平化协调</mark>" in result.snippet
    assert len(re.sub(r"<[^>]+>", "", result.snippet)) <= search.SNIPPET_LENGTH + 2


def test_snippet_escapes_the_text():
    index, text = search.snippet(["a<b>c 儿童 &"], ["儿童"])
    assert text == "a&lt;b&gt;c <mark>儿童</mark> &amp;"


# -- the dictionary and the data files ------------------------------------------------------


def user_dictionary():
    return [line.split()[0] for line in (search.DATA / "userdict.txt").read_text(encoding="utf-8").splitlines() if line.strip()]


def test_user_dictionary_hides_no_word_of_four_or_more_characters():
    """Search mode emits only the 2- and 3-character words inside a longer one, so an entry
    must not contain a longer dictionary word, or that word would stop matching."""
    default = jieba.Tokenizer()
    default.initialize()
    for entry in user_dictionary():
        inner = {entry[i:j] for i in range(len(entry)) for j in range(i + 4, len(entry) + 1)} - {entry}
        assert not [w for w in inner if default.FREQ.get(w)], entry


def test_user_dictionary_loses_no_hit():
    """Every dictionary word inside an entry still finds every section that holds it."""
    tk = search.tokenizer()
    for entry in user_dictionary():
        inner = {entry[i:j] for i in range(len(entry)) for j in range(i + 2, len(entry) + 1)}
        for word in [w for w in inner if tk.FREQ.get(w)]:
            holding = {s.pk for s in Section.objects.all() if word in s.text}
            hits, _, _ = search.matches(search.parse_query(word), limit=100)
            assert holding <= {hit.section_id for hit in hits}, word


def test_user_dictionary_words_are_indexed_whole():
    assert "儿童主任" in search.words("整合儿童主任、网格员")
    assert "渝童守护" in search.words("重庆市启动“渝童守护”行动")
    assert "未成年人" in search.words("未成年人保护")


def test_synonyms_widen_both_ways():
    assert search.search("未成年人保护").total >= search.search("未保").total > 0
    assert {r.section.pk for r in search.search("最低生活保障").results} == {r.section.pk for r in search.search("低保").results}


def test_function_and_question_words_need_not_match():
    assert landing(search.search("如何整合儿童主任").results[0]) == f"{CQ}#强化基层能力建设"


# -- queries are data, never FTS5 syntax ----------------------------------------------------

FTS_SYNTAX = ['"', "*", "-", ":", ".", "%", "(", ")", "^", "+", "AND", "OR", "NOT", "NEAR", "NEAR(儿童 主任)",
              "儿童 OR 深圳", "儿童 NOT 主任", "title_words:儿童", "{body_words}:儿童", "儿*", "-儿童", "儿童^",
              "'", "''", ";", "--", "/*", "\\", "儿童\"主任", "1=1", "' OR 1=1 --", "\x00", "儿童\x00主任"]


@pytest.mark.parametrize("query", FTS_SYNTAX)
def test_fts_syntax_is_searched_as_text(query):
    search.search(query)  # raises on any syntax error


def test_operators_are_words_not_operators():
    assert search.search("儿童 NOT 主任").total == 0  # "not" is searched as a word
    assert search.search("儿童主任 OR 北京").total == 0  # "or" likewise: no section holds it


def test_long_query_is_cut_with_a_notice():
    query = search.parse_query("儿童" * 80)
    assert query.truncated and len(query.text) == search.MAX_QUERY_LENGTH


def test_jieba_dictionary_is_loaded_once_per_process():
    assert search.tokenizer() is search.tokenizer()


def test_index_follows_the_loads(content_dir):
    (content_dir / "01-jiangsu-social-assistance-2023.md").unlink()
    load_content(content_dir)
    assert search.search("赵庭朴").total == 0
    assert "江苏省" not in search.search("社会救助").regions
    path = content_dir / "02-chongqing-yutong-shouhu.md"
    path.write_text(path.read_text(encoding="utf-8").replace("网吧", "网咖"), encoding="utf-8")
    load_content(content_dir)
    assert search.search("网吧").total == 0 and search.search("网咖").total == 1


# -- the pages ------------------------------------------------------------------------------


def test_search_page_lists_results_with_breadcrumbs_and_links(client):
    html = client.get("/search/", {"q": "重庆学校安全"}).content.decode()
    assert "找到 <strong>1</strong> 条" in html
    assert "重庆启动“渝童守护”行动 进一步健全未成年人保护体系<span class=\"crumb\"> › </span>筑牢安全守护防线。" in html
    link = re.search(r'<h2><a href="([^"]+)"', html).group(1)
    assert link.startswith("/articles/chongqing-yutong-shouhu/?hl=") and link.endswith("#" + quote("筑牢安全守护防线"))


def test_following_a_result_marks_the_words_on_the_article(client):
    found = search.search("重庆学校安全")
    html = client.get(found.results[0].url.split("#")[0].replace("&amp;", "&")).content.decode()
    assert "<mark>学校</mark>" in html and "<mark>安全</mark>" in html


def test_article_highlight_never_touches_markup(client):
    html = client.get(f"/articles/{CQ}/", {"hl": "class href 本段 <script>alert(1)</script>"}).content.decode()
    assert 'class="pilcrow"' in html and "<script>" not in html
    assert "<mark>class</mark>" not in html


def test_article_highlight_never_breaks_a_character_reference(client, content_dir):
    path = content_dir / "03-shenzhen-civil-affairs-2023.md"
    path.write_text(path.read_text(encoding="utf-8").replace("“20+8”", "“20+8” R&D"), encoding="utf-8")
    load_content(content_dir)
    html = client.get(f"/articles/{SZ}/", {"hl": "amp lt quot 20"}).content.decode()
    assert "“<mark>20</mark>+8” R&amp;D" in html


def test_search_box_is_on_every_page(client):
    for url in ("/", f"/articles/{CQ}/", "/search/", "/articles/missing/"):
        html = client.get(url).content.decode()
        assert '<form class="search-form" role="search" action="/search/" method="get">' in html, url


def test_blank_query_shows_help(client):
    for q in ("", "   ", "\t"):
        response = client.get("/search/", {"q": q})
        assert response.status_code == 200
        assert "不必加空格" in response.content.decode()


def test_region_facets_link_to_narrowed_results(client):
    html = client.get("/search/", {"q": "儿童"}).content.decode()
    assert "重庆市（" in html and "深圳市（" in html
    html = client.get("/search/", {"q": "儿童", "region": "深圳市"}).content.decode()
    assert "在“深圳市”中找到" in html and "/articles/chongqing" not in html


def test_results_page_through(client):
    html = client.get("/search/", {"q": "未成年人"}).content.decode()
    assert 'rel="next"' in html
    html2 = client.get("/search/", {"q": "未成年人", "page": 2}).content.decode()
    assert 'rel="prev"' in html2 and '<ol class="results" start="11">' in html2


def test_long_query_page_says_it_was_cut(client):
    response = client.get("/search/", {"q": "儿童" * 80})
    assert response.status_code == 200 and "查询过长" in response.content.decode()


# -- answers kept for repeated searches ------------------------------------------------------


def matches_run(client, path, params):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(path, params)
    assert response.status_code == 200
    return response.content, sum("MATCH" in q["sql"] for q in queries.captured_queries)


@pytest.mark.parametrize("path", ["/search/", "/api/search"])
def test_a_repeated_search_is_answered_without_matching_again(client, path):
    first, matched = matches_run(client, path, {"q": "困境儿童 关爱", "region": "重庆市"})
    again, matched_again = matches_run(client, path, {"q": "困境儿童 关爱", "region": "重庆市"})
    assert (matched, matched_again) == (1, 0) and again == first
    assert matches_run(client, path, {"q": "困境儿童 关爱"})[1] == 1  # another URL, another answer


def test_an_answer_quicker_to_make_than_to_keep_is_not_kept(client, settings):
    settings.KEEP_ANSWERS_AFTER_MS = 60_000
    assert matches_run(client, "/search/", {"q": "孤儿 养育标准"})[1] == 1
    assert matches_run(client, "/search/", {"q": "孤儿 养育标准"})[1] == 1


def test_a_load_that_changes_content_is_searched_at_once(client, content_dir):
    load_content(content_dir)
    assert "找到 <strong>1</strong> 条" in client.get("/search/", {"q": "网吧"}).content.decode()
    path = content_dir / "02-chongqing-yutong-shouhu.md"
    path.write_text(path.read_text(encoding="utf-8").replace("网吧", "网咖"), encoding="utf-8")
    load_content(content_dir)
    assert "没有找到结果" in client.get("/search/", {"q": "网吧"}).content.decode()
    assert "找到 <strong>1</strong> 条" in client.get("/search/", {"q": "网咖"}).content.decode()


def test_each_host_keeps_its_own_absolute_urls(client):
    for host in ("localhost", "127.0.0.1"):
        results = client.get("/api/search", {"q": "儿童主任"}, HTTP_HOST=host).json()["results"]
        assert results[0]["url"].startswith(f"http://{host}/articles/")


def test_a_broken_cache_never_fails_a_search(client, settings, tmp_path):
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": tmp_path / "cache"}}
    first = client.get("/search/", {"q": "低保"}).content
    kept = list((tmp_path / "cache").iterdir())
    assert kept
    for path in kept:
        path.write_bytes(b"not what the cache wrote")
    assert client.get("/search/", {"q": "低保"}).content == first
    (tmp_path / "file").write_text("")
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": tmp_path / "file" / "cache"}}
    assert client.get("/search/", {"q": "低保"}).content == first  # nowhere to keep it


@pytest.mark.parametrize(("entries", "backend"), [(None, "FileBasedCache"), ("0", "DummyCache")])
def test_answers_are_kept_under_the_data_folder_unless_turned_off(tmp_path, entries, backend):
    env = site_env(tmp_path, **({} if entries is None else {"BULLETINS_CACHE_ENTRIES": entries}))
    code = "import django; django.setup(); from django.core.cache import caches; cache = caches['default']; print(type(cache).__name__, getattr(cache, '_dir', ''))"
    kept_in = str(tmp_path / "var" / "cache") if entries is None else ""
    assert run_python(code, env).stdout.split("\n")[0].strip() == f"{backend} {kept_in}".strip()


# -- the API --------------------------------------------------------------------------------


def test_api_answers_json_best_first(client):
    response = client.get("/api/search", {"q": "儿童主任"})
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    data = response.json()
    assert data["query"] == "儿童主任" and data["total"] == len(data["results"]) == 2
    first = data["results"][0]
    assert set(first) == {"url", "article", "section", "snippet", "score"}
    assert first["article"] == {"slug": CQ, "title": "重庆启动“渝童守护”行动 进一步健全未成年人保护体系"}
    assert first["section"] == {"id": "强化基层能力建设", "title": "强化基层能力建设。"}
    assert "<mark>儿童主任</mark>" in first["snippet"]
    assert first["url"].startswith(f"http://testserver/articles/{CQ}/?hl=")
    assert [r["score"] for r in data["results"]] == sorted((r["score"] for r in data["results"]), reverse=True)


def test_api_limit_defaults_to_ten_and_is_capped(client):
    assert client.get("/api/search", {"q": "的"}).json()["limit"] == 10
    assert len(client.get("/api/search", {"q": "的"}).json()["results"]) == 7
    assert client.get("/api/search", {"q": "的", "limit": 500}).json()["limit"] == 50
    page = client.get("/api/search", {"q": "未成年人", "limit": 2, "offset": 2}).json()
    whole = client.get("/api/search", {"q": "未成年人", "limit": 4}).json()
    assert page["results"] == whole["results"][2:4]


@pytest.mark.parametrize(
    "params",
    [{}, {"q": ""}, {"q": "  "}, {"q": "儿童" * 60}, {"q": "儿童", "limit": "x"}, {"q": "儿童", "limit": "0"},
     {"q": "儿童", "limit": "-1"}, {"q": "儿童", "offset": "-5"}, {"q": "儿童", "offset": "1e3"},
     {"q": "儿童", "offset": "99999999999999999999"}],
)
def test_api_bad_input_is_a_400_with_a_json_error(client, params):
    response = client.get("/api/search", params)
    assert response.status_code == 400
    assert "error" in json.loads(response.content)


def test_invalid_utf8_in_the_url_is_not_an_error(client):
    for url in ("/search/?q=%ff%fe%fd", "/api/search?q=%ff%fe%e5%84%bf", "/search/?q=%e5%84", "/articles/x/?hl=%ff"):
        assert client.get(url).status_code in (200, 400, 404)


OUR_TAGS = {"html", "head", "meta", "title", "link", "body", "a", "header", "div", "form", "label", "input",
            "button", "main", "h1", "h2", "h3", "p", "ul", "ol", "li", "strong", "mark", "nav", "span", "footer",
            "section", "article", "time", "script", "details", "summary"}


class TagCollector(HTMLParser):
    def __init__(self):
        super().__init__()
        self.tags = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))


def assert_only_our_markup(html):
    """What a query or ?hl= brings in stays text: no tag, attribute or script of its own."""
    parser = TagCollector()
    parser.feed(html)
    for tag, attrs in parser.tags:
        assert tag in OUR_TAGS, tag
        assert not [name for name in attrs if name.startswith("on")], attrs
        if tag == "script":
            assert attrs.get("src", "").startswith("/static/"), attrs


HOSTILE = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=120) | st.sampled_from(
    FTS_SYNTAX + ["<script>alert(1)</script>", "\"><img src=x onerror=alert(1)>", "😀儿童😀", "\u202e儿童", "儿童\r\n主任"]
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=HOSTILE, page=st.one_of(st.none(), st.text(max_size=5), st.integers(-5, 10**6).map(str)))
def test_search_page_never_fails_and_never_echoes_markup(client, q, page):
    params = {"q": q} if page is None else {"q": q, "page": page}
    response = client.get("/search/", params)
    assert response.status_code == 200
    assert_only_our_markup(response.content.decode())


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=HOSTILE, limit=st.one_of(st.none(), st.text(max_size=4)), offset=st.one_of(st.none(), st.text(max_size=4)))
def test_api_never_fails(client, q, limit, offset):
    params = {k: v for k, v in {"q": q, "limit": limit, "offset": offset}.items() if v is not None}
    response = client.get("/api/search", params)
    assert response.status_code in (200, 400)
    json.loads(response.content)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(hl=HOSTILE)
def test_article_highlight_never_fails_and_never_echoes_markup(client, hl):
    response = client.get(f"/articles/{CQ}/", {"hl": hl})
    assert response.status_code == 200
    assert_only_our_markup(response.content.decode())

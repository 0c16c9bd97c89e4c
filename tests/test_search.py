"""bulletins.search: what readers type, where they land, and what no input can break.

Runs the real app against the real content, loaded into the test database and the search
index by the loader.
"""

import html
import itertools
import json
import re
import unicodedata
from html.parser import HTMLParser
from urllib.parse import quote, unquote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bulletins import search
from bulletins.loader import load_content
from bulletins.models import Section
from bulletins.search import marks, text
from bulletins.search.query import parse, places_query

from .support import FIXTURES

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
    ("社工", f"{SZ}#lead-p4"),  # the word as typed, before its long form (社会工作者)
    # spaces and quotes
    ("儿童主任 考核", f"{CQ}#强化基层能力建设"),
    ('"兜住底、兜准底"', f"{JS}#lead-p4"),
    ("“兜住底、兜准底”", f"{JS}#lead-p4"),
]

# Absent topics: no result may hold any of their words.
NOTHING = ["北京", "人工智能", "养老保险", "股票 基金", "机动车 驾驶证", "北京 房价", '"社会救助 培训"', "zzzz", "彩票"]
# Some words present, some not: listed, and each result says what it lacks.
PARTLY = [("儿童主任 北京", ["北京"]), ("重庆 股票", ["股票"]), ("网吧 驾驶证", ["驾驶证"])]


def landing(found):
    """slug#fragment of the first place of the first entry."""
    first = found.entries[0].first
    return f"{first.article.slug}#{unquote(first.fragment)}"


@pytest.mark.parametrize(("query", "expected"), LANDINGS, ids=[q for q, _ in LANDINGS])
def test_first_result_lands_on_the_section_meant(query, expected):
    found = search.search(query)
    assert found.entries, f"nothing found for {query}"
    assert landing(found) == expected


@pytest.mark.parametrize("query", NOTHING)
def test_absent_topics_find_nothing(query):
    found = search.search(query)
    assert (found.total, found.bulletins, found.entries) == (0, 0, [])


@pytest.mark.parametrize(("query", "missing"), PARTLY)
def test_words_not_found_are_named_and_the_rest_still_found(query, missing):
    found = search.places(query)
    assert found.places
    assert all(place.missing == missing for place in found.places)


QUESTIONS = [
    ("深圳给孤儿的钱每月多少", f"{SZ}#lead-p3"),
    ("老人去哪里养老", f"{SZ}#lead-p3"),
    ("孩子上网吧有人管吗", f"{CQ}#筑牢安全守护防线"),
    ("深圳有多少社工参加抗疫", f"{SZ}#lead-p3"),
    ("江苏低收入人口怎么监测", f"{JS}#lead-p2"),
    ("重庆怎么培训儿童主任", f"{CQ}#强化基层能力建设"),
]


@pytest.mark.parametrize(("question", "expected"), QUESTIONS, ids=[q for q, _ in QUESTIONS])
def test_questions_in_readers_own_words_land_on_the_answer(question, expected):
    assert landing(search.search(question)) == expected


def matched_section_ids(query):
    """Every section that the index lists for a query, straight from the index."""
    searcher = search.current_searcher()
    hits = searcher.search(places_query(parse(query)), limit=10_000).hits
    return {section_id for _, _, section_id, _ in search.hit_ids(searcher, hits)}


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
            assert section.pk in matched_section_ids(piece), f"{piece!r} misses {section}"
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
    found = search.places(f'"{piece}"', limit=50)
    sections = {place.section.pk: place for place in found.places if place.section}
    assert section.pk in sections
    target = unquote(sections[section.pk].fragment)
    n = int(target.rsplit("-p", 1)[1]) - 1 if "-p" in target else 0
    assert piece in section.paragraphs[n]


def test_a_term_standing_whole_ranks_above_its_words_apart():
    load_content(FIXTURES / "whole")  # both hold 县里, 召开 and 会议; one as typed
    found = search.search("县里召开会议")
    assert [entry.article.slug for entry in found.entries] == ["term-whole", "words-apart"]


def test_a_section_holding_more_words_ranks_above_one_holding_fewer():
    load_content(FIXTURES / "ranking")
    found = search.search("县里召开会议")
    assert [entry.article.slug for entry in found.entries] == ["word-match", "bigram-only"]


def test_a_section_holding_more_of_the_words_ranks_first():
    found = search.search("儿童主任 考核 培训")
    assert landing(found) == f"{CQ}#强化基层能力建设"
    assert found.entries[0].places[0].missing == ["培训"]


def test_title_weighs_above_body(tmp_path):
    found = search.places("典型示范")
    # 二是典型示范 carries the words in its title; the lead has them once in its body.
    fragments = [unquote(place.fragment) for place in found.places[:2]]
    assert fragments == ["二是典型示范", "lead-p1"]


def test_results_can_be_narrowed_to_a_region():
    everywhere = search.search("儿童")
    assert everywhere.regions == {"重庆市": 1, "深圳市": 1}  # bulletins, not sections
    assert sum(everywhere.regions.values()) == everywhere.bulletins == 2
    shenzhen = search.search("儿童", region="深圳市")
    assert shenzhen.bulletins == everywhere.regions["深圳市"]
    assert {entry.article.region for entry in shenzhen.entries} == {"深圳市"}


def test_snippet_marks_the_words_around_the_best_match():
    place = search.search("扁平化协调").entries[0].places[0]
    assert "<mark>扁平化协调</mark>" in place.snippet
    assert len(re.sub(r"<[^>]+>", "", place.snippet)) <= marks.SNIPPET_LENGTH + 2 * len(marks.ELLIPSIS)


def test_snippet_escapes_the_text():
    text_ = "a<b>c 儿童 &"
    quote = marks.quote(text_, marks.spans(text_, ["儿童"]), {"儿童": {"儿童"}}, parse("儿童"))
    assert quote == "a&lt;b&gt;c <mark>儿童</mark> &amp;"


def splits_a_run(text, i):
    """Whether a cut before text[i] falls inside a number or a Latin word."""
    if i <= 0 or i >= len(text):
        return False
    before, after = text[i - 1], text[i]
    if re.match(r"[0-9A-Za-z]", before) and re.match(r"[0-9A-Za-z]", after):
        return True
    return (after in ".%" and before.isdigit()) or (before == "." and after.isdigit())


SNIPPET_QUERIES = ["低保", "困难群众 救助", "1365元", "80%", "儿童主任 考核", "社会救助", "8522.58万元", "深圳 养老", "未保"]


@pytest.mark.parametrize("query", SNIPPET_QUERIES)
def test_snippets_quote_the_text_exactly_in_whole_pieces(query):
    found = search.places(query, limit=50)
    assert found.places
    for place in found.places:
        text = place.section.text if place.section else place.article.summary
        quote = html.unescape(re.sub(r"</?mark>", "", str(place.snippet)))
        for piece in filter(None, quote.split(marks.ELLIPSIS)):
            assert piece in text, (piece, text)
            at = text.index(piece)
            assert not splits_a_run(text, at) and not splits_a_run(text, at + len(piece)), piece
            assert piece[0].isalnum() or piece[0] in "“《（", piece
        assert "…" not in quote.replace(marks.ELLIPSIS, "")


def test_a_snippet_quotes_every_word_that_its_section_holds():
    place = search.search("困难群众 救助").entries[0].places[0]
    assert "<mark>困难群众</mark>" in place.snippet and "<mark>救助</mark>" in place.snippet


@pytest.mark.parametrize(
    ("query", "slug", "marked", "unmarked"),
    [
        ("未成年人保护", CQ, "<mark>未成年人保护</mark>", "<mark>保护</mark>"),
        ("1365元", SZ, "<mark>1365元</mark>", "<mark>元</mark>"),
        ("重庆儿童主任", CQ, "<mark>儿童主任</mark>", "<mark>儿童</mark>"),
    ],
)
def test_a_word_is_marked_whole_not_in_pieces(client, query, slug, marked, unmarked):
    html_ = client.get(f"/articles/{slug}/", {"hl": query}).content.decode()
    assert marked in html_ and unmarked not in html_


def test_the_pieces_of_a_term_are_marked_only_where_it_does_not_stand_whole(client):
    html_ = client.get(f"/articles/{CQ}/", {"hl": "典型示范带动"}).content.decode()
    sections = dict(re.findall(r'<section id="([^"]+)".*?>(.*?)</section>', html_, re.S))
    assert "<mark>典型示范带动</mark>" in sections["lead"] and "<mark>典型示范</mark>" not in sections["lead"]
    assert "<mark>典型示范</mark>" in sections["二是典型示范"]


def test_a_word_jieba_cuts_in_two_is_one_word_where_the_archive_holds_it_whole():
    def words(query):
        return [unit.word for unit in search.parse_query(query)[0].units]

    assert words("社会救助") == ["社会救助"]  # jieba: 社会 / 救助
    assert words("江苏社会救助会议") == ["江苏", "社会救助", "会议"]
    assert words("县里召开会议") != ["县里召开会议"]  # a phrase stays words
    assert all("社会救助" in place.section.text for place in search.places("社会救助", limit=50).places if place.section)


def test_figures_are_searched_as_written():
    assert matched_section_ids("80%") and matched_section_ids("80%") != matched_section_ids("80")
    shenzhen = search.places("80%")
    assert not [p for p in shenzhen.places if p.section and "80%" not in p.section.text]
    assert search.search("2.6亿").total == search.search("2.6亿元").total == 1


def test_bulletin_fields_are_searched_and_listed_once():
    found = search.search("皮磊")  # the byline: in no section's text
    assert [entry.article.slug for entry in found.entries] == [CQ]
    assert found.total == 1 and found.entries[0].places == []
    assert landing(search.search("江苏 低收入人口")) == f"{JS}#lead-p2"


def test_one_entry_per_bulletin_with_its_best_places():
    found = search.search("未成年人")
    assert len({entry.article.slug for entry in found.entries}) == len(found.entries) == found.bulletins
    cq = next(entry for entry in found.entries if entry.article.slug == CQ)
    holding = Section.objects.filter(article__slug=CQ, text__contains="未成年人").count()
    assert len(cq.places) == search.PLACES_SHOWN and len(cq.places) + cq.more == holding
    assert found.total == sum(len(entry.places) + entry.more for entry in found.entries)


# -- the dictionary and the data files ------------------------------------------------------


def test_the_fields_words_are_query_words():
    assert "儿童主任" in text.words("整合儿童主任、网格员")
    assert "渝童守护" in text.words("重庆市启动“渝童守护”行动")
    assert text.words("8522.58万元 80%乡镇 智志助老e站") == ["8522.58万元", "80%", "乡镇", "智志助老e站"]


def test_the_thesaurus_widens_both_ways():
    assert search.search("未成年人保护").total >= search.search("未保").total > 0
    assert matched_section_ids("最低生活保障") == matched_section_ids("低保")
    assert matched_section_ids("老人") == matched_section_ids("长者") != set()


def test_every_thesaurus_line_is_words_a_reader_can_type():
    for words in text.data_lines("thesaurus.txt"):
        assert len(words) > 1 and all(text.searchable(word) == word for word in words), words


def test_function_and_question_words_need_not_match():
    assert landing(search.search("如何整合儿童主任")) == f"{CQ}#强化基层能力建设"
    assert search.places("如何整合儿童主任").places[0].missing == []


# -- queries are data, never FTS5 syntax ----------------------------------------------------

FTS_SYNTAX = [
    '"',
    "*",
    "-",
    ":",
    ".",
    "%",
    "(",
    ")",
    "^",
    "+",
    "AND",
    "OR",
    "NOT",
    "NEAR",
    "NEAR(儿童 主任)",
    "儿童 OR 深圳",
    "儿童 NOT 主任",
    "title_words:儿童",
    "{body_words}:儿童",
    "儿*",
    "-儿童",
    "儿童^",
    "'",
    "''",
    ";",
    "--",
    "/*",
    "\\",
    '儿童"主任',
    "1=1",
    "' OR 1=1 --",
    "\x00",
    "儿童\x00主任",
]


@pytest.mark.parametrize("query", FTS_SYNTAX)
def test_fts_syntax_is_searched_as_text(query):
    search.search(query)  # raises on any syntax error


def test_operators_are_words_not_operators():
    assert all("not" in place.missing for place in search.places("儿童 NOT 主任").places)
    assert all("or" in place.missing for place in search.places("儿童主任 OR 北京").places)


def test_long_query_is_cut_with_a_notice():
    query = search.parse("儿童" * 80)
    assert query.truncated and len(query.text) == search.MAX_QUERY_LENGTH


def test_jieba_dictionary_is_loaded_once_per_process():
    assert text.tokenizer() is text.tokenizer()


def test_index_follows_the_loads(content_dir):
    (content_dir / "01-jiangsu-social-assistance-2023.md").unlink()
    load_content(content_dir)
    assert search.search("赵庭朴").total == 0
    assert "江苏省" not in search.search("救助").regions
    path = content_dir / "02-chongqing-yutong-shouhu.md"
    path.write_text(path.read_text(encoding="utf-8").replace("网吧", "网咖"), encoding="utf-8")
    load_content(content_dir)
    assert search.search("网吧").total == 0 and search.search("网咖").total == 1


# -- the pages ------------------------------------------------------------------------------


def test_search_page_lists_each_bulletin_once_with_links_to_its_places(client):
    html_ = client.get("/search/", {"q": "重庆学校安全"}).content.decode()
    assert re.search(r"<strong>2</strong> 篇公报，\d+ 处", html_)
    assert html_.count('data-bulletin="chongqing-yutong-shouhu"') == 1
    link = re.search(r'<a class="(?:result-place|place-title)" href="([^"]+)">筑牢安全守护防线</a>', html_).group(1)
    assert link.startswith("/articles/chongqing-yutong-shouhu/?hl=") and link.endswith("#" + quote("筑牢安全守护防线"))


def result_items(html_):
    return re.findall(r'<li class="result" data-bulletin="[^"]+">(.*?)\n  </li>', html_, re.S)


def test_each_entry_is_headed_by_its_bulletin_with_the_place_and_region_below(client):
    result = result_items(client.get("/search/", {"q": "扁平化协调"}).content.decode())[0]
    assert re.search(r"<h2><a [^>]*>重庆启动“渝童守护”行动 进一步健全未成年人保护体系</a></h2>", result)
    meta = re.search(r'<p class="result-meta">(.*?)</p>', result, re.S).group(1)
    assert '<a class="result-place" href="' in meta and ">一是专班推进</a>" in meta  # no full stop
    assert '<span class="result-region">重庆市</span>' in meta


def test_untitled_places_are_named_by_their_paragraph_as_the_page_counts_them(client):
    html_ = client.get("/search/", {"q": "五项重点任务"}).content.decode()  # Chongqing's 2nd paragraph, untitled
    assert ">第 2 段</a>" in html_ and "导语" not in html_
    html_ = client.get("/search/", {"q": "据了解"}).content.decode()  # its 8th paragraph, the 7th section
    assert ">第 8 段</a>" in html_ and ">第 7 段</a>" not in html_
    assert ">正文<" not in html_


def test_a_page_past_the_last_is_a_404_that_leads_to_the_first(client):
    response = client.get("/search/", {"q": "儿童主任", "page": 99})
    assert response.status_code == 404
    html_ = response.content.decode()
    assert "没有第 99 页" in html_ and "第 99/" not in html_
    assert 'href="?q=%E5%84%BF%E7%AB%A5%E4%B8%BB%E4%BB%BB&amp;region=">回到第 1 页</a>' in html_


def test_nothing_in_a_region_names_the_regions_that_have_it(client):
    html_ = client.get("/search/", {"q": "儿童主任", "region": "江苏省"}).content.decode()
    notice = re.search(r'<p class="notice" role="status">(.*?)</p>', html_, re.S).group(1)
    assert "“江苏省”的公报中没有找到" in notice and "重庆市（1 篇）" in notice
    assert "search-help" in html_  # and the examples


def test_nothing_found_shows_the_examples(client):
    html_ = client.get("/search/", {"q": NOTHING[0]}).content.decode()
    assert "没有找到结果" in html_ and "search-help" in html_


def test_search_page_says_how_many_more_places_a_bulletin_has(client):
    html_ = client.get("/search/", {"q": "未成年人"}).content.decode()
    assert re.search(r"本文另有 \d+ 处", html_)


def test_following_a_result_marks_the_words_and_keeps_the_query(client):
    first = re.search(r'<h2><a href="([^"#]*)', client.get("/search/", {"q": "重庆学校安全"}).content.decode())[1]
    html_ = client.get(html.unescape(first)).content.decode()
    assert "<mark>学校</mark>" in html_ and "<mark>安全</mark>" in html_
    assert 'name="q" value="重庆学校安全"' in html_
    assert 'href="/search/?q=%E9%87%8D%E5%BA%86%E5%AD%A6%E6%A0%A1%E5%AE%89%E5%85%A8">返回搜索结果</a>' in html_
    assert f'<a class="search-bar-clear" href="/articles/{CQ}/">清除标记</a>' in html_


def test_article_highlight_never_touches_markup(client):
    html_ = client.get(f"/articles/{CQ}/", {"hl": "class href 本段 <script>alert(1)</script>"}).content.decode()
    assert 'class="pilcrow"' in html_ and "<script>alert" not in html_
    assert "<mark>class</mark>" not in html_


def test_article_highlight_never_breaks_a_character_reference(client, content_dir):
    path = content_dir / "03-shenzhen-civil-affairs-2023.md"
    path.write_text(path.read_text(encoding="utf-8").replace("“20+8”", "“20+8” R&D"), encoding="utf-8")
    load_content(content_dir)
    html_ = client.get(f"/articles/{SZ}/", {"hl": "amp lt quot 20"}).content.decode()
    assert "“<mark>20</mark>+8” R&amp;D" in html_


def test_search_box_is_on_every_page(client):
    for url in ("/", f"/articles/{CQ}/", "/search/", "/articles/missing/"):
        html_ = client.get(url).content.decode()
        assert '<form class="search-form" role="search" action="/search/" method="get">' in html_, url


def test_blank_query_shows_help(client):
    for q in ("", "   ", "\t"):
        response = client.get("/search/", {"q": q})
        assert response.status_code == 200
        assert "不必加空格" in response.content.decode()


def test_region_facets_link_to_narrowed_results(client):
    html_ = client.get("/search/", {"q": "儿童"}).content.decode()
    assert "重庆市（1）" in html_ and "深圳市（1）" in html_
    html_ = client.get("/search/", {"q": "儿童", "region": "深圳市"}).content.decode()
    assert "在“深圳市”中" in html_ and "/articles/chongqing" not in html_


def test_results_page_through(client, content_dir):
    for n in range(12):
        (content_dir / f"extra-{n:02d}.md").write_text(f"---\ntitle: 第{n}号\nslug: extra-{n}\n---\n\n儿童主任培训。\n", encoding="utf-8")
    load_content(content_dir)
    html_ = client.get("/search/", {"q": "儿童主任"}).content.decode()
    assert 'rel="next"' in html_ and html_.count("data-bulletin=") == 10
    html2 = client.get("/search/", {"q": "儿童主任", "page": 2}).content.decode()
    assert 'rel="prev"' in html2 and '<ol class="results" start="11">' in html2 and html2.count("data-bulletin=") == 3


@pytest.mark.parametrize("path", ["/search/", "/api/search"])
def test_a_search_over_its_time_budget_answers_503_with_a_clear_message(client, settings, path):
    settings.BULLETINS_SEARCH_BUDGET_MS = 0
    response = client.get(path, {"q": "儿童主任"})
    assert response.status_code == 503 and "用时过长" in response.content.decode()
    settings.BULLETINS_SEARCH_BUDGET_MS = 2000
    assert client.get(path, {"q": "儿童主任"}).status_code == 200


def test_long_query_page_says_it_was_cut(client):
    response = client.get("/search/", {"q": "儿童" * 80})
    assert response.status_code == 200 and "查询过长" in response.content.decode()


def test_every_example_of_the_help_finds_something(client):
    html_ = client.get("/search/").content.decode()
    examples = re.findall(r'<a href="/search/\?q=([^"]+)">', html_)
    assert len(examples) >= 5
    for example in examples:
        found = search.search(unquote(html.unescape(example)))
        assert found.entries, example


# -- the API --------------------------------------------------------------------------------


def test_api_answers_json_best_first(client):
    response = client.get("/api/search", {"q": "儿童主任"})
    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    data = response.json()
    assert data["query"] == "儿童主任" and data["total"] == len(data["results"]) == 2 and data["total_bulletins"] == 1
    first = data["results"][0]
    assert set(first) == {"url", "article", "section", "paragraph", "place", "snippet", "score", "missing"}
    assert first["article"] == {"slug": CQ, "title": "重庆启动“渝童守护”行动 进一步健全未成年人保护体系"}
    assert first["section"] == {"id": "强化基层能力建设", "title": "强化基层能力建设。"}
    assert first["paragraph"] == {"id": "强化基层能力建设-p1", "number": 7} and first["place"] == "强化基层能力建设"
    assert "<mark>儿童主任</mark>" in first["snippet"]
    assert first["url"].startswith(f"http://testserver/articles/{CQ}/?hl=")
    assert [r["score"] for r in data["results"]] == sorted((r["score"] for r in data["results"]), reverse=True)


def test_api_limit_defaults_to_ten_and_is_capped(client):
    assert client.get("/api/search", {"q": "的"}).json()["limit"] == 10
    everything = client.get("/api/search", {"q": "的"}).json()
    assert len(everything["results"]) == min(10, everything["total"]) == 10
    assert client.get("/api/search", {"q": "的", "limit": 500}).json()["limit"] == 50
    page = client.get("/api/search", {"q": "未成年人", "limit": 2, "offset": 2}).json()
    whole = client.get("/api/search", {"q": "未成年人", "limit": 4}).json()
    assert page["results"] == whole["results"][2:4]


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"q": ""},
        {"q": "  "},
        {"q": "儿童" * 60},
        {"q": "儿童", "limit": "x"},
        {"q": "儿童", "limit": "0"},
        {"q": "儿童", "limit": "-1"},
        {"q": "儿童", "offset": "-5"},
        {"q": "儿童", "offset": "1e3"},
        {"q": "儿童", "offset": "99999999999999999999"},
        {"q": "，。！"},
        {"q": "\x07"},
        {"q": "儿童", "limit": "１"},
        {"q": "儿童", "limit": "1_0"},
        {"q": "儿童", "limit": "+5"},
        {"q": "儿童", "offset": " 5"},
    ],
)
def test_api_bad_input_is_a_400_with_a_json_error(client, params):
    response = client.get("/api/search", params)
    assert response.status_code == 400
    assert "error" in json.loads(response.content)


def test_invalid_utf8_in_the_url_is_not_an_error(client):
    for url in ("/search/?q=%ff%fe%fd", "/api/search?q=%ff%fe%e5%84%bf", "/search/?q=%e5%84", "/articles/x/?hl=%ff"):
        assert client.get(url).status_code in (200, 400, 404)


OUR_TAGS = {
    "wbr",  # where a headline may break (bulletins/typeset.py)
    "html",
    "head",
    "meta",
    "title",
    "link",
    "body",
    "a",
    "header",
    "div",
    "form",
    "label",
    "input",
    "button",
    "main",
    "h1",
    "h2",
    "h3",
    "p",
    "ul",
    "ol",
    "li",
    "strong",
    "mark",
    "nav",
    "span",
    "footer",
    "s",
    "section",
    "article",
    "time",
    "script",
    "details",
    "summary",
    "dl",
    "dt",
    "dd",
    "aside",
}


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
    [*FTS_SYNTAX, "<script>alert(1)</script>", '"><img src=x onerror=alert(1)>', "😀儿童😀", "\u202e儿童", "儿童\r\n主任"]
)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(q=HOSTILE, page=st.one_of(st.none(), st.text(max_size=5), st.integers(-5, 10**6).map(str)))
def test_search_page_never_fails_and_never_echoes_markup(client, q, page):
    params = {"q": q} if page is None else {"q": q, "page": page}
    response = client.get("/search/", params)
    assert response.status_code in (200, 404)  # 404: a page past the last
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


@settings(max_examples=300, deadline=None)
@given(
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)
    | st.from_regex(r"[0-9.%‰，a-zＡ-Ｚ０-９儿童、]{0,20}", fullmatch=True)
)
def test_searchable_text_is_what_the_marks_map_back_to(value):
    stream, offsets = text.searchable_with_offsets(value)
    assert stream == text.searchable(value)
    assert len(offsets) == len(stream) and offsets == sorted(offsets)
    pieces = {stream[i : i + n] for i in range(len(stream)) for n in (1, 3)}
    for string in {p for p in pieces if p[0].isalnum() and p[-1].isalnum()}:  # as searchable() leaves a query
        for start, end, found in marks.spans(value, [string]):
            assert found in text.searchable(value[start:end])  # whole characters: ¼ is 1⁄4 to search


@settings(max_examples=500, deadline=None)
@given(
    st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40)
    | st.from_regex(r"[0-9.%‰，。　a-zＡ-Ｚ０-９．％儿童、①㎡\u0301]{0,20}", fullmatch=True)
)
def test_text_is_normalized_and_reduced_as_nfkc_and_the_full_rule_would(value):
    normalized = text.CONTROL.sub(" ", unicodedata.normalize("NFKC", value)).lower()
    assert text.normalize(value) == normalized
    assert text.searchable(value) == text.DROPPED.sub("", normalized)


SEARCH_DURING_LOADS = """
import sys, threading
from pathlib import Path
import django
django.setup()
from django.test import Client
from bulletins.loader import load_content
from bulletins.startup import migrate_and_load

migrate_and_load()
article = Path(sys.argv[1]) / "02-chongqing-yutong-shouhu.md"
text = article.read_text(encoding="utf-8")
done = threading.Event()

def publish():  # every load replaces the sections of one bulletin, so their ids change
    for n in range(40):
        article.write_text(text + f"\\n\\n第{n}次更新。\\n", encoding="utf-8")
        load_content()
    done.set()

threading.Thread(target=publish).start()
client = Client(HTTP_HOST="localhost")
statuses = set()
while not done.is_set():
    for url in ("/search/?q=儿童主任", "/api/search?q=未成年人保护", "/articles/chongqing-yutong-shouhu/?hl=儿童"):
        statuses.add(client.get(url).status_code)
print(sorted(statuses))
"""


def test_searches_during_loads_answer_from_one_version(tmp_path):
    """A search reads the index and then the sections it names: a load published in between
    must not make it name sections that are gone (each request reads one snapshot)."""
    import shutil
    import subprocess
    import sys

    from bulletins.testing.processes import site_env

    from .support import CONTENT, ROOT

    content = tmp_path / "content"
    shutil.copytree(CONTENT, content)
    env = site_env(tmp_path, BULLETINS_CONTENT_DIR=content)
    result = subprocess.run(
        [sys.executable, "-c", SEARCH_DURING_LOADS, str(content)], env=env, cwd=ROOT, capture_output=True, text=True, timeout=300
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip().splitlines()[-1] == "[200]", result.stderr[-3000:]


@pytest.fixture
def own_index(settings, tmp_path):
    settings.BULLETINS_INDEX_DIR = tmp_path / "index"


def answers(client, queries):
    """The API's JSON and the results pages' bulletins for each query, pages 1 and 2."""
    out = {}
    for query in queries:
        for offset in (0, 4):
            out[(query, offset)] = client.get("/api/search", {"q": query, "limit": 4, "offset": offset}).json()
        for page in (1, 2):
            html_ = client.get("/search/", {"q": query, "page": page}).content.decode()
            out[(query, "page", page)] = re.findall(r'data-bulletin="([^"]+)"', html_)
    return out


def test_equal_scores_are_ordered_alike_however_the_index_was_built(client, content_dir, own_index):
    """Twelve bulletins that score alike straddle the page boundary; one index is built at once,
    the other by loads that add them a few at a time, after one that replaced a bulletin."""
    extras = {f"extra-{n:02d}.md": f"---\ntitle: 第{n}号通知\nslug: extra-{n}\n---\n\n儿童主任培训，考核激励。\n" for n in range(12)}
    for name, body in extras.items():
        (content_dir / name).write_text(body, encoding="utf-8")
    load_content(content_dir)
    queries = ["儿童主任", "儿童主任 培训", "考核激励", "培训"]
    at_once = answers(client, queries)
    for name in extras:
        (content_dir / name).unlink()
    load_content(content_dir)
    for start in (10, 5, 0):  # the last first: tantivy would keep other ties
        for name in list(extras)[start : start + 5]:
            (content_dir / name).write_text(extras[name], encoding="utf-8")
        load_content(content_dir)
    assert search.current_searcher().num_segments > 1  # built in several pieces
    assert answers(client, queries) == at_once
    for query in queries:  # a page is the part of the whole order that it shows
        whole = client.get("/api/search", {"q": query, "limit": 50}).json()["results"]
        pages = [client.get("/api/search", {"q": query, "limit": 4, "offset": offset}).json()["results"] for offset in (0, 4, 8)]
        assert [r["url"] for page in pages for r in page] == [r["url"] for r in whole[:12]]

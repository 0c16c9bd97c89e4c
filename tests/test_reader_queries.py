"""What readers ask, judged on the set of reader queries written before the search was tuned
(fixtures/reader_queries.tsv): the answering paragraph first, absent topics never shown as
answered, and every result's snippet, marks and missing words true of the paragraph it links to.
"""

import html
import re
from pathlib import Path
from urllib.parse import unquote

import pytest

from bulletins import search
from bulletins.models import Section
from bulletins.search import index, marks, text

pytestmark = pytest.mark.django_db

QUERIES = Path(__file__).resolve().parent / "fixtures" / "reader_queries.tsv"
SENTENCE_ENDS = "。！？；"
CLAUSE_ENDS = "，。；：！？、"
CLOSING = "”’》）」』"


def reader_queries(kind=None):
    rows = []
    for line in QUERIES.read_text(encoding="utf-8").splitlines():
        if line.startswith("#") or not line.strip():
            continue
        found_kind, query, *answers = line.split("\t")
        if kind in (None, found_kind) or (kind == "answerable" and found_kind != "absent"):
            rows.append((found_kind, query, answers[0].split(",") if answers else []))
    return rows


def landing(found):
    first = found.entries[0].first
    return f"{first.article.slug}#{unquote(first.fragment)}"


def test_the_set_is_the_size_the_issue_asks_for():
    assert len(reader_queries()) >= 60 and len(reader_queries("absent")) >= 10


def test_the_answering_paragraph_comes_first_for_nearly_every_answerable_query():
    answerable = reader_queries("answerable")
    misses = []
    for _, query, answers in answerable:
        found = search.search(query)
        where = landing(found) if found.entries else "nothing"
        if where not in answers:
            misses.append(f"{query} -> {where} (wanted {answers[0]})")
    assert len(misses) <= 0.05 * len(answerable), misses


@pytest.mark.parametrize("query", [query for _, query, _ in reader_queries("absent")])
def test_an_absent_topic_never_looks_answered(client, query):
    found = search.search(query)
    assert all(place.missing for entry in found.entries for place in [entry.first, *entry.places]), query
    assert all(place.missing for place in search.places(query, limit=50).places), query
    if found.entries:
        page = client.get("/search/", {"q": query}).content.decode()
        notice = "没有找到含" if found.query.absent else "没有一段同时含有查询的全部词语"
        assert notice in page and page.index(notice) < page.index('<ol class="results"')


def every_place(query):
    found = search.search(query)
    for entry in found.entries:
        yield from [entry.first, *entry.places]
    yield from search.places(query, limit=50).places


def quoted_paragraph(place):
    """The text a place quotes: its paragraph, or its bulletin's fields when they alone matched."""
    if place.section is None:
        return None
    section = Section.objects.get(pk=place.section.pk)
    return section, section.paragraphs[place.paragraph]


def pieces_of(snippet, paragraph):
    """(start, end, piece) of each piece of a snippet in its paragraph."""
    return [(start, end, piece) for start, end, piece, _ in marked_pieces(snippet, paragraph)]


def marked_pieces(snippet, paragraph):
    """(start, end, piece, [(offset, marked string)]) of each piece of a snippet, offsets in its paragraph."""
    out, at = [], 0
    for markup in filter(None, str(snippet).split(marks.ELLIPSIS)):
        piece = html.unescape(re.sub(r"</?mark>", "", markup))
        start = paragraph.index(piece, at)
        offset, marked = start, []
        for part in re.split(r"(<mark>.*?</mark>)", markup):
            plain = html.unescape(re.sub(r"</?mark>", "", part))
            if part.startswith("<mark>"):
                marked.append((offset, plain))
            offset += len(plain)
        out.append((start, start + len(piece), piece, marked))
        at = start + len(piece)
    return out


def states_a_figure(piece):
    return re.search(r"\d", re.sub(r"(?:19|20)\d\d年|\d{1,2}月\d{1,2}日", "", piece)) is not None


ALL_QUERIES = [query for _, query, _ in reader_queries()]


@pytest.mark.parametrize("query", ALL_QUERIES)
def test_snippets_quote_whole_clauses_and_figures_with_their_sentence(query):
    for place in every_place(query):
        quoted = quoted_paragraph(place)
        if quoted is None:
            continue
        _, paragraph = quoted
        for start, end, piece in pieces_of(place.snippet, paragraph):
            before = paragraph[:start].rstrip()
            assert not before or before[-1] in CLAUSE_ENDS, (query, piece)
            assert end == len(paragraph) or paragraph[end - 1] in CLAUSE_ENDS, (query, piece)
            if states_a_figure(piece):
                assert not before or before[-1] in SENTENCE_ENDS, (query, "a figure without its sentence's start", piece)
                assert end == len(paragraph) or paragraph[:end].rstrip(CLOSING)[-1] in SENTENCE_ENDS, (query, piece)


@pytest.mark.parametrize("query", ALL_QUERIES)
def test_no_character_is_marked_inside_a_longer_word(client, query):
    parsed, _ = search.parse_query(query)
    if not parsed.whole_forms:
        return
    for place in every_place(query):
        quoted = quoted_paragraph(place)
        if quoted is None:
            continue
        _, paragraph = quoted
        words_at = set(text.single_words(paragraph))
        for _, _, _, marked in marked_pieces(place.snippet, paragraph):
            for offset, string in marked:
                assert string not in parsed.whole_forms or offset in words_at, (query, string, paragraph)
        page = client.get(place.article.get_absolute_url(), {"hl": query}).content.decode()
        for body in re.findall(r"<p [^>]*>(.*?)</p>", page, re.S):
            plain_body = html.unescape(re.sub(r"<(?!/?mark)[^>]*>", "", body))
            stripped = re.sub(r"</?mark>", "", plain_body)
            singles = set(text.single_words(stripped))
            offset = 0
            for part in re.split(r"(<mark>.*?</mark>)", plain_body):
                if part.startswith("<mark>"):
                    word = part[6:-7]
                    assert word not in parsed.whole_forms or offset in singles, (query, word, stripped)
                    offset += len(word)
                else:
                    offset += len(part)


@pytest.mark.parametrize("query", ALL_QUERIES)
def test_missing_words_are_true_of_the_paragraph_linked_to(query):
    parsed, _ = search.parse_query(query)
    for place in every_place(query):
        fields = text.searchable(" ".join(index.article_fields(place.article)))
        quoted = quoted_paragraph(place)
        if quoted is None:
            streams, singles = [fields], set()
        else:
            section, paragraph = quoted
            streams = [text.searchable(section.title) + text.searchable(paragraph), fields]
            singles = {paragraph[at] for at in text.single_words(paragraph)} | {
                section.title[at] for at in text.single_words(section.title)
            }
            assert place.fragment in (section.fragment(), section.fragment(place.paragraph))
        for unit in parsed.units:
            held = any(form in singles if unit.whole_form(form) else any(form in s for s in streams) for form in unit.forms)
            assert held == (unit.word not in place.missing), (query, unit.word, place.fragment, place.missing)


def test_a_bulletin_matched_by_its_byline_leads_to_where_the_byline_is_shown(client):
    found = search.search("皮磊")
    assert landing(found) == "chongqing-yutong-shouhu#provenance"
    assert "<mark>皮磊</mark>" in found.entries[0].first.snippet
    page = client.get("/articles/chongqing-yutong-shouhu/").content.decode()
    start = page.index('id="provenance"')
    block = page[start : page.index("</header>", start)]
    assert "皮磊" in block


def test_a_word_left_over_from_a_question_is_filler_unless_the_text_has_it_as_a_word(client):
    parsed, _ = search.parse_query("老人补贴怎么领")
    assert "领" in parsed.ignored and "领" not in [unit.word for unit in parsed.units]
    page = client.get("/search/", {"q": "老人补贴怎么领"}).content.decode()
    assert "未按单字“领”搜索" in page
    assert search.search("领").entries  # alone, the reader asked for the character: found anywhere


def test_a_snippet_never_cuts_a_figure_from_what_it_counts():
    place = search.search("低保标准提高了吗").entries[0].first
    quote = html.unescape(re.sub(r"</?mark>", "", str(place.snippet)))
    assert "最低生活保障标准、最低生活保障边缘家庭认定标准、特困人员基本生活供养金标准分别提高至每人每月1365元、2048元、2184元" in quote

"""bulletins.content: front matter, sections and rendering, on real Markdown files."""

import datetime
import re

import pytest

from bulletins.content import PAGE_IDS, ContentError, parse_bulletin

from .support import CONTENT, FIXTURES, ROOT


def parse(path):
    return parse_bulletin(path.name, path.read_bytes())


@pytest.fixture(scope="module")
def structured():
    return parse(FIXTURES / "good" / "structured.md")


def test_front_matter_fills_every_field(structured):
    assert structured.title == "测试公报：章节与引题"
    assert structured.slug == "structured-sample"
    assert structured.region == "北京市"
    assert structured.source == "北京市民政局"
    assert structured.byline == ""
    assert structured.order == 5
    assert structured.date == datetime.date(2023, 3, 1)


def test_summary_is_the_first_sentence(structured):
    assert structured.summary == "这是导语的第一句。"


def test_headings_and_lead_ins_become_sections(structured):
    outline = [(s.anchor, s.title, s.level, len(s.paragraphs)) for s in structured.sections]
    assert outline == [
        ("lead", "", 1, 1),
        ("一总体要求", "一、总体要求", 2, 2),
        ("细化措施", "细化措施", 3, 1),
        ("一是加强领导", "一是加强领导。", 4, 1),
        ("二是强化保障", "二是强化保障。", 4, 1),
        ("part-6", "", 3, 1),
        ("一总体要求-2", "一、总体要求", 2, 1),
    ]


def test_a_lead_in_is_its_sections_heading_at_the_start_of_its_paragraph(structured):
    """Issue 23: a bold lead-in was a <strong>, so a screen reader's heading navigation skipped
    the section; it is now a heading element of the section's level, in line with its text."""
    section = structured.sections[3]
    assert section.run_in and section.paragraphs == ("各级部门要加强领导。",)  # the title is searched as a title
    assert section.html == (
        '<div class="lead-paragraph" id="一是加强领导-p1"><h4 class="lead-in">一是加强领导。</h4>各级部门要加强领导。'
        '<a aria-label="本节的链接：一是加强领导" class="headerlink" href="#一是加强领导"></a></div>'
    )
    assert "**" not in section.html


def test_a_bold_line_alone_is_a_heading_not_a_run_in(tmp_path):
    path = tmp_path / "alone.md"
    path.write_text("---\ntitle: 标题\nslug: alone\n---\n\n**保障措施**\n\n落实经费保障。\n", encoding="utf-8")
    section = parse(path).sections[0]
    assert (section.title, section.run_in, section.paragraphs) == ("保障措施", False, ("落实经费保障。",))
    assert "<strong" not in section.html


def test_every_block_has_an_id_and_a_permalink_out_of_the_tab_order(structured):
    section = structured.sections[1]
    assert (
        '<p id="一总体要求-p1">总体要求的第一段。<a aria-label="本段的链接" class="pilcrow" href="#一总体要求-p1" tabindex="-1"></a></p>'
    ) in section.html
    assert 'id="一总体要求-p2"' in section.html


def test_section_ids_come_from_titles_so_edits_elsewhere_keep_them(tmp_path):
    source = (FIXTURES / "good" / "structured.md").read_text(encoding="utf-8")
    edited = source.replace("这是导语的第一句。", "这是导语的第一句。\n\n新增的一段。\n\n## 新增章节\n\n新增章节的段落。")
    path = tmp_path / "structured.md"
    path.write_text(edited, encoding="utf-8")
    anchors = [s.anchor for s in parse(path).sections]
    assert {"一总体要求", "细化措施", "一是加强领导", "二是强化保障"} <= set(anchors)


def test_chongqing_lead_ins_are_sections():
    bulletin = parse(CONTENT / "02-chongqing-yutong-shouhu.md")
    titles = [s.title for s in bulletin.sections if s.title]
    assert titles == [
        "健全“1+N”制度体系。",
        "完善四级工作网络。",
        "加大精准保障力度。",
        "筑牢安全守护防线。",
        "强化基层能力建设。",
        "一是专班推进。",
        "二是典型示范。",
        "三是定期调度。",
        "四是正向激励。",
    ]
    transition = bulletin.sections[6]
    assert transition.title == "" and transition.paragraphs[0].startswith("据了解")


def test_digest_changes_with_the_bytes():
    path = CONTENT / "01-jiangsu-social-assistance-2023.md"
    data = path.read_bytes()
    assert parse_bulletin(path.name, data).digest != parse_bulletin(path.name, data + b"\n").digest


@pytest.mark.parametrize(
    ("name", "line", "message"),
    [
        ("broken-yaml.md", 4, "not valid YAML"),
        ("missing-title.md", 2, "needs a non-empty 'title'"),
        ("empty-body.md", 6, "the body is empty"),
        ("unknown-key.md", 4, "unknown front-matter key 'autor'"),
        ("invalid-utf8.md", 6, "not valid UTF-8"),
        ("no-front-matter.md", 1, "front matter missing"),
        ("impossible-date.md", 4, "'date' holds a value that does not exist"),
        ("order-out-of-range.md", 4, "order must be a whole number within"),
        ("key-twice.md", 4, "'title' is written twice (first on line 2)"),
        ("control-character.md", 6, "a control or direction character (U+000C) is not text"),
    ],
)
def test_bad_file_is_named_with_its_line(name, line, message):
    with pytest.raises(ContentError) as caught:
        parse(FIXTURES / "bad" / name)
    error = caught.value
    assert (error.path, error.line) == (name, line)
    assert message in error.message
    assert str(error).startswith(f"{name}:{line}: ")


@pytest.mark.parametrize(
    ("front_matter", "message"),
    [
        ("title: 标题\nslug: Not A Slug", "must be lower-case ASCII"),
        ("title: 标题\nslug: ok\norder: first", "order must be a whole number"),
        ("title: 标题\nslug: ok\ndate: 2月24日", "date must be written YYYY-MM-DD"),
        ("title: [1, 2]\nslug: ok", "needs a non-empty 'title'"),
        ("- a\n- b", "must be 'key: value' lines"),
    ],
)
def test_front_matter_values_are_validated(front_matter, message):
    data = f"---\n{front_matter}\n---\n\n正文。\n".encode()
    with pytest.raises(ContentError, match=message):
        parse_bulletin("x.md", data)


def test_level_one_heading_in_body_is_refused():
    data = "---\ntitle: 标题\nslug: ok\n---\n\n# 标题\n\n正文。\n".encode()
    with pytest.raises(ContentError) as caught:
        parse_bulletin("x.md", data)
    assert caught.value.line == 6 and "title belongs in the front matter" in caught.value.message


def test_heading_needs_no_blank_line_after_it():
    data = "---\ntitle: 标题\nslug: ok\n---\n\n导语。\n## 第一节\n第一节的段落。\n".encode()
    sections = parse_bulletin("x.md", data).sections
    assert [(s.anchor, s.title, s.paragraphs) for s in sections] == [
        ("lead", "", ("导语。",)),
        ("第一节", "第一节", ("第一节的段落。",)),
    ]


def body(markdown):
    return parse_bulletin("x.md", f"---\ntitle: 标题\nslug: ok\n---\n\n{markdown}\n".encode()).sections


def test_raw_html_is_shown_as_text_never_obeyed():
    html = body('<meta http-equiv="refresh" content="0;url=https://example.com">\n\n文字<script>alert(1)</script>')[0].html
    assert "<meta" not in html and "<script" not in html
    assert "&lt;meta http-equiv" in html and "&lt;script&gt;alert(1)&lt;/script&gt;" in html


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "java\tscript:alert(1)",
        "data:text/html,x",
        "vbscript:x",
        # written with character references, as a browser decodes them (issue 22)
        "javascript&#58;alert(1)",
        "&#106;avascript:alert(1)",
        "java&#x73;cript:alert(1)",
        "jav&#x09;ascript:alert(1)",
        "javascript&colon;alert(1)",
    ],
)
def test_links_lead_only_to_the_web_mail_or_this_site(url):
    html = body(f"[甲]({url}) [乙](https://mca.gov.cn/) [丙](/articles/x/) [丁](mailto:a@b.cn) ![图]({url})")[0].html
    assert 'href="https://mca.gov.cn/"' in html and 'href="/articles/x/"' in html and 'href="mailto:a@b.cn"' in html
    assert "script:" not in html.lower().replace("\t", "") and "data:" not in html and "<a>甲</a>" in html


def test_each_block_is_one_line_of_text_so_its_id_matches_its_place():
    sections = body("第一行\n第二行。\n\n- 甲\n- 乙\n\n尾段。")
    assert sections[0].paragraphs == ("第一行 第二行。", "甲 乙", "尾段。")
    assert 'id="lead-p3"' in sections[0].html and "尾段。" in sections[0].html.split('id="lead-p3"')[1]


def test_a_bulletin_of_too_many_paragraphs_is_refused_at_the_first_too_many():
    data = ("---\ntitle: 标题\nslug: ok\n---\n\n" + "\n\n".join(f"第{n}段。" for n in range(1, 6)) + "\n").encode()
    assert len(parse_bulletin("x.md", data, max_blocks=5).sections[0].paragraphs) == 5
    with pytest.raises(ContentError) as caught:
        parse_bulletin("x.md", data, max_blocks=4)
    assert caught.value.line == 14 and "more than 4 paragraphs and headings" in caught.value.message


def test_no_section_takes_an_id_that_the_page_gives_its_own_parts():
    body = "\n\n".join(f"## {name}\n\n正文。" for name in sorted(PAGE_IDS))
    bulletin = parse_bulletin("ids.md", f"---\ntitle: 标题\nslug: ids\n---\n\n{body}\n".encode())
    assert not {section.anchor for section in bulletin.sections} & PAGE_IDS


def test_the_page_ids_are_the_ones_the_templates_give():
    given = set()
    for template in (ROOT / "templates").glob("*.html"):
        given |= set(re.findall(r'\bid="([a-z-]+)"', template.read_text(encoding="utf-8")))
    assert given == PAGE_IDS


def bulletin_with(body, **front):
    fields = {"title": "标题", "slug": "shape", **front}
    head = "".join(f"{key}: {value}\n" for key, value in fields.items())
    return f"---\n{head}---\n\n{body}\n".encode()


@pytest.mark.parametrize(
    ("body", "front", "line", "message"),
    [
        ("[" * 160_000, {}, 6, "'[' in one paragraph"),
        ("".join("    " * depth + "- 项\n" for depth in range(300)), {}, 27, "nested more than"),
        ("".join(">" * depth + " 引\n" for depth in range(1, 300)), {}, 26, "nested more than"),
        ("## " + "长" * 200_000, {}, 6, "a heading of 200,000 characters"),
        ("**" + "长" * 1_000 + "。**正文。", {}, 6, "a heading of 1,001 characters"),
        ("正文。", {"region": "江苏省/南京市"}, 4, "without '/'"),
        ("正文。", {"region": "省" * 100_000}, 4, "'region' is 100,000 characters long"),
        ("正文。", {"title": "题" * 301}, 2, "'title' is 301 characters long"),
    ],
    ids=["brackets", "nested-list", "nested-quotes", "long-heading", "long-lead-in", "region-slash", "long-region", "long-title"],
)
def test_a_file_of_a_shape_that_would_stop_a_load_is_refused_at_its_line(body, front, line, message):
    """Issue 22: each of these made Markdown run for minutes, or rendering or a page's address fail."""
    with pytest.raises(ContentError) as refused:  # before the work: the brackets took Markdown minutes
        parse_bulletin("shape.md", bulletin_with(body, **front))
    assert refused.value.line == line and message in refused.value.message, str(refused.value)


def test_a_section_id_stays_short_whatever_its_heading():
    bulletin = parse_bulletin("long.md", bulletin_with("## " + "很长的标题" * 50 + "\n\n正文。"))
    assert len(bulletin.sections[-1].anchor) <= 80


@pytest.mark.parametrize(
    ("source", "line", "message"),
    [
        ('---\ntitle: "通知\\x0b"\nslug: s\n---\n\n正文。\n', 2, "'title' holds U+000B"),
        ('---\ntitle: 通知\nslug: s\nbyline: "记者\\u202e皮磊"\n---\n\n正文。\n', 4, "'byline' holds U+202E"),
        ("---\ntitle: 通知\nslug: s\n---\n\n## 标题\u202e反\n\n正文。\n", 6, "U+202E"),
        ("---\ntitle: 通知\nslug: s\n---\n\n\u3000\u3000\n\n\u00a0\u200b\n", 5, "the body is empty"),
        ("---\ntitle: 通知\nslug: s\norder: 190:20:30\n---\n\n正文。\n", 4, "plain whole number"),
        ("---\ntitle: yes\nslug: s\n---\n\n正文。\n", 2, "read by YAML as a bool (yes): write it in quotes"),
    ],
    ids=["yaml-escaped-control", "bidi-in-a-field", "bidi-in-the-body", "blank-looking-body", "sexagesimal-order", "title-yes"],
)
def test_values_are_judged_after_yaml_decodes_them(source, line, message):
    """Issue 22: each of these was published, or refused with a misleading message."""
    with pytest.raises(ContentError) as refused:
        parse_bulletin("values.md", source.encode())
    assert refused.value.line == line and message in refused.value.message, str(refused.value)


@pytest.mark.parametrize(
    ("markdown", "text"),
    [
        ("共&nbsp;13个设区市", "共 13个设区市"),
        ("1\\. 第一条", "1. 第一条"),
        ("联系 <a@b.cn> 即可", "联系 a@b.cn 即可"),
        ("甲&amp;乙 &#x4e2d;", "甲&乙 中"),
    ],
    ids=["entity", "backslash-escape", "mail-autolink", "references"],
)
def test_the_text_of_a_block_holds_what_a_reader_reads_never_markdowns_placeholders(markdown, text):
    """Issue 22: the API's text, snippets, summaries and feeds showed \\x02wzxhzdk:0\\x03."""
    section = body(markdown)[0]
    assert section.paragraphs == (text,)
    assert parse_bulletin("x.md", f"---\ntitle: 标题\nslug: ok\n---\n\n{markdown}\n".encode()).summary == text

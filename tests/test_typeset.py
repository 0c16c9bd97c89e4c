"""Where a headline may break (bulletins/typeset.py): between words, never inside a date, a
figure, a quotation or a name, and never before the punctuation that ends a word."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from markupsafe import escape

from bulletins.typeset import breaks, pieces


@pytest.mark.parametrize(
    ("title", "expected"),
    [
        (
            "重庆启动“渝童守护”行动 进一步健全未成年人保护体系",
            ["重庆", "启动", "“渝童守护”", "行动 ", "进一步", "健全", "未成年人保护", "体系"],
        ),
        ("江苏省召开2023年全省社会救助工作会议", ["江苏省", "召开", "2023年", "全省", "社会", "救助", "工作", "会议"]),
        ("2026年11月30日", ["2026年11月30日"]),
        ("本报记者 皮磊", ["本报记者 ", "皮磊"]),
        ("健全“1+N”制度体系。", ["健全", "“1+N”", "制度", "体系。"]),
    ],
)
def test_a_headline_breaks_between_its_words_only(title, expected):
    assert pieces(title) == expected


def test_breaks_marks_the_places_and_escapes_the_text():
    marked = str(breaks("<b>二是典型示范</b>"))
    assert "<wbr>二是<wbr>典型示范<wbr>" in marked and marked.replace("<wbr>", "") == str(escape("<b>二是典型示范</b>"))


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("渝童守护行动进一步健全未成年人保护体系2023年月日“”（）《》，。 、AB1+N"), max_size=40))
def test_the_pieces_join_back_to_the_text_and_none_begins_with_a_closing_mark(text):
    found = pieces(text)
    assert "".join(found) == text
    assert all(piece for piece in found)
    assert not any(piece[0] in "，。、）》”" for piece in found[1:])

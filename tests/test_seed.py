"""The published bulletins are the seed's text, word for word, with the extraction repaired."""

import datetime
import re

import pytest

from bulletins.content import parse_bulletin

from .support import CONTENT, FIXTURES

FULL_WIDTH = str.maketrans({",": "，", ";": "；", ":": "：", "(": "（", ")": "）"})
SENTENCE_END = "。！？"


def seed_bulletins():
    """The seed's three bulletins: (title, body text with all white space removed)."""
    text = (FIXTURES / "seed.txt").read_text(encoding="utf-8")
    parts = re.split(r"^#{1,2} (.+)$", text, flags=re.M)[1:]
    return [(title, re.sub(r"\s+", "", body)) for title, body in zip(parts[::2], parts[1::2], strict=False)]


def sentences(text):
    return [s for s in re.findall(rf"[^{SENTENCE_END}]+[{SENTENCE_END}]?", text) if s]


def published():
    return [parse_bulletin(p.name, p.read_bytes()) for p in sorted(CONTENT.glob("*.md"))]


def published_text(bulletin):
    """What a reader reads: byline, section titles, paragraphs and attribution, in order."""
    parts = [bulletin.byline]
    for section in bulletin.sections:
        parts += [section.title, *section.paragraphs]
    if bulletin.source:
        parts.append(f"（据{bulletin.source}）")
    return re.sub(r"\s+", "", "".join(parts))


def test_three_bulletins_in_the_seeds_order():
    titles = [b.title for b in published()]
    assert [re.sub(r"\s+", "", t) for t in titles] == [re.sub(r"\s+", "", t) for t, _ in seed_bulletins()]
    assert [b.order for b in published()] == [1, 2, 3]


@pytest.mark.parametrize("index", range(3))
def test_every_seed_sentence_is_published_in_order(index):
    _, seed_body = seed_bulletins()[index]
    text = published_text(published()[index])
    expected = seed_body.replace("■", "").replace("**", "").translate(FULL_WIDTH)
    position = 0
    for sentence in sentences(expected):
        found = text.find(sentence, position)
        assert found >= 0, f"missing or out of order: {sentence}"
        position = found + len(sentence)
    assert text == expected, "the published text adds or drops something"


def test_no_paragraph_ends_mid_sentence():
    for bulletin in published():
        for section in bulletin.sections:
            for paragraph in section.paragraphs:
                assert paragraph[-1] in SENTENCE_END + "”）", f"{bulletin.path}: ends mid-sentence: …{paragraph[-20:]}"


def test_no_ascii_punctuation_between_chinese_characters():
    for bulletin in published():
        text = published_text(bulletin)
        assert not re.search(r"[,;:()]", text), bulletin.path


def test_metadata_comes_from_the_text_and_invents_nothing():
    jiangsu, chongqing, shenzhen = published()
    assert (jiangsu.source, jiangsu.byline) == ("江苏省民政厅", "")
    assert (chongqing.source, chongqing.byline) == ("", "本报记者 皮磊")
    assert (shenzhen.source, shenzhen.byline) == ("深圳市民政局", "")
    assert [b.region for b in published()] == ["江苏省", "重庆市", "深圳市"]
    # Only Jiangsu's text states its day: 2月24日, of the 2023 meeting its title names.
    assert jiangsu.date == datetime.date(2023, 2, 24) and "2月24日" in published_text(jiangsu) and "2023年" in jiangsu.title
    assert (chongqing.date, shenzhen.date) == (None, None)

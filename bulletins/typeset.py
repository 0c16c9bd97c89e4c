"""Where a headline may break: between words, never inside one.

Chinese wraps between any two characters, so a balanced headline broke as 渝童守 / 护 and a
date as 2026年11 / 月30日. Titles, headings and the provenance line are set with CSS's
`word-break: keep-all`, which breaks only where the text allows, and breaks() marks the places
between jieba's words with <wbr>. A date, a figure, a run of Latin letters and digits, a short
quotation or aside, and a name (a run of single characters) are kept whole; punctuation stays
with the word it follows, an opening mark with the word it opens. Article pages are rendered at
load, so their breaks are stored with them.
"""

import html
import re
from functools import lru_cache

from markupsafe import Markup, escape

from .search.text import stopwords, tokenizer

KEPT = re.compile(
    r"\d{4}年(?:\d{1,2}月(?:\d{1,2}日)?)?|\d{1,2}月\d{1,2}日"  # dates
    r"|[0-9A-Za-z][0-9A-Za-z.%‰+\-/:]*"  # figures, 1+N, e-mail, years
    r"|“[^“”]{1,16}”|‘[^‘’]{1,16}’|《[^《》]{1,24}》|「[^「」]{1,16}」|（[^（）]{1,16}）|\([^()]{1,16}\)"
)
CLOSING = set("，。、；：！？”’）》」』】〕…—·,.;:!?)%‰")
OPENING = set("“‘（《「『【〔(")
BREAK = Markup("<wbr>")
# A run-in lead-in as content.py renders it into a section's HTML.
LEAD_IN = re.compile(r'(<h[2-6] class="lead-in">)([^<]*)(</h[2-6]>)')


@lru_cache(maxsize=50_000)
def breaks(text):
    """`text`, escaped, with <wbr> between its words."""
    return BREAK.join(escape(piece) for piece in pieces(text))


def pieces(text):
    """The runs of `text` that no line may split, in order: they join back to `text`."""
    found, last = [], 0
    for kept in KEPT.finditer(text):
        found += words(text[last : kept.start()])
        found.append(kept.group(0))
        last = kept.end()
    found += words(text[last:])
    joined = []
    for piece in found:
        if joined and (set(piece) <= CLOSING or joined[-1][-1] in OPENING or piece.isspace() or joined[-1].isspace()):
            joined[-1] += piece
        else:
            joined.append(piece)
    return joined


def words(text):
    """jieba's words, with runs of single characters that are not function words joined (a name
    jieba does not know: 皮磊)."""
    out, single_run = [], False
    for word in tokenizer().cut(text):
        single = len(word) == 1 and "\u4e00" <= word <= "\u9fff" and word not in stopwords()
        if single and single_run:
            out[-1] += word
        else:
            out.append(word)
        single_run = single
    return out


def lead_in_breaks(section_html):
    """A section's HTML with its run-in heading's words marked as breaks() marks a title's."""
    return Markup(LEAD_IN.sub(lambda m: m[1] + str(breaks(html.unescape(m[2]))) + m[3], section_html))

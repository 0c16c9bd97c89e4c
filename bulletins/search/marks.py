"""Marking and quoting what a query matched: pure functions of text and a parsed query.

Matches are found in a text's searchable characters (text.searchable_with_offsets) and mapped
back to the text itself, so marks and snippets agree with the index to the character.
"""

import html
import re

from markupsafe import Markup

from .text import prepared, searchable_with_offsets

SNIPPET_LENGTH = 100
SECOND_PIECE_LENGTH = 40
ELLIPSIS = "……"
CLAUSE_END = "。！？；，、：”）》"
LOOK_BACK = 20  # characters a snippet may start earlier to begin with its clause
RUN_CHAR = re.compile(r"[0-9A-Za-z]")
TAG_OR_REFERENCE = re.compile(r"(<[^>]*>|&#?\w+;)")


def marks_for(query, stream):
    """{string to mark: the query words it meets} for one section, given as its searchable() text.

    A term of several words is marked whole where it stands whole in the section; its words
    are marked apart only in a section where the whole does not occur.
    """
    marks, covered = {}, set()
    for whole, term_words in query.wholes:
        if whole in stream:
            marks[whole] = frozenset(term_words)
            covered.update(term_words)
    for unit in query.units:
        if unit.word in covered:
            continue
        for form in unit.forms:
            if form in stream:
                marks.setdefault(form, frozenset())
                marks[form] = marks[form] | {unit.word}
    return marks


def missing(query, *streams):
    """The query's words that none of the searchable() texts holds, by itself or by a related word."""
    return [unit.word for unit in query.units if not any(form in stream for form in unit.forms for stream in streams)]


def spans(text, strings, ready=None):
    """(start, end, string) of each occurrence in `text` of the strings, longest first where they
    overlap. `ready` is text.prepared(text), when the caller has it."""
    normalized, searchable_text = ready or prepared(text)
    strings = [string for string in strings if string in searchable_text]
    if not strings:
        return []
    stream, offsets = literal_offsets(text, normalized, searchable_text, strings) or searchable_with_offsets(text)
    taken = bytearray(len(text) + 1)
    found = []
    for string in sorted(strings, key=len, reverse=True):
        at = stream.find(string)
        while at != -1:
            start, end = offsets[at], offsets[at + len(string) - 1] + 1
            if not any(taken[start:end]):
                taken[start:end] = b"\1" * (end - start)
                found.append((start, end, string))
            at = stream.find(string, at + 1)
    return sorted(found)


def literal_offsets(text, normalized, searchable_text, strings):
    """searchable_with_offsets(text) when every occurrence of the strings in the searchable text
    stands letter for letter in the text itself, as nearly always: (stream, offsets) where the
    stream is the normalized text and offsets are the identity. None otherwise."""
    if len(normalized) != len(text):
        return None
    for string in strings:
        if searchable_text.count(string) != normalized.count(string):
            return None
    return normalized, range(len(normalized))


def marked(text, found, escape=html.escape):
    """Text with the spans found in <mark>, escaped (plain str: callers wrap it in Markup once).

    escape=str for text that is HTML already."""
    out, last = [], 0
    for start, end, _ in found:
        out += [escape(text[last:start]), "<mark>", escape(text[start:end]), "</mark>"]
        last = end
    out.append(escape(text[last:]))
    return "".join(out)


def splits_a_run(text, i):
    """Whether a cut before text[i] falls inside a number or a Latin word."""
    if i <= 0 or i >= len(text):
        return False
    before, after = text[i - 1], text[i]
    if RUN_CHAR.match(before) and RUN_CHAR.match(after):
        return True
    return (after in ".%" and before.isdigit()) or (before == "." and after.isdigit())


def piece_bounds(text, first, length):
    """Where a piece of about `length` characters from text[first] starts and ends.

    It begins at the start of its clause when that is near, else at text[first] itself (a
    match, so never inside a word), never on punctuation, and neither end cuts a number or a
    Latin word.
    """
    start = 0 if first <= LOOK_BACK else first
    for i in range(first - 1, max(-1, first - LOOK_BACK - 1), -1):
        if text[i] in CLAUSE_END:
            start = i + 1
            break
    while start < first and not text[start].isalnum():
        start += 1
    while splits_a_run(text, start):
        start -= 1
    end = min(len(text), max(start + length, first + 1))
    while splits_a_run(text, end):
        end += 1
    return start, end


def snippet(paragraphs, marks, ready=None, length=SNIPPET_LENGTH):
    """(index of the paragraph to link, Markup): the window that holds the most query words.

    `marks` is marks_for()'s {string: words}; `ready`, the paragraphs' text.prepared(), when
    the caller has them. When the section holds words the window does not, a second, shorter
    piece quotes the first of them. Pieces are verbatim text joined and cut with ……
    """
    found = [spans(paragraph, marks, r) for paragraph, r in zip(paragraphs, ready or map(prepared, paragraphs), strict=True)]
    best = None
    for index, (paragraph, spans_here) in enumerate(zip(paragraphs, found, strict=True)):
        # Each match with the words it meets, and those of them that are the reader's own (not
        # a related word's): a string that is the word it meets, or a whole term.
        weighed = [(s, e, marks[m], marks[m] if m in marks[m] or len(marks[m]) > 1 else frozenset()) for s, e, m in spans_here]
        for first in [s for s, _, _ in spans_here] or [0]:
            start, end = piece_bounds(paragraph, first, length)
            words, own, covered = set(), set(), 0
            for s, e, meets, reader_s in weighed:  # in order of their start
                if s >= end:
                    break
                if start <= s and e <= end:
                    words |= meets
                    own |= reader_s
                    covered += e - s
            key = (len(words), len(own), covered, -index, -start)
            if best is None or key > best[0]:
                best = (key, index, start, end, words)
    _, index, start, end, words = best
    pieces = [(index, start, end)]
    for other, spans_there in enumerate(found):
        extra = next((f for f in spans_there if marks[f[2]] - words and not (other == index and start <= f[0] < end)), None)
        if extra is not None:
            pieces.append((other, *piece_bounds(paragraphs[other], extra[0], SECOND_PIECE_LENGTH)))
            break
    return index, join_pieces(paragraphs, found, pieces)


def join_pieces(paragraphs, found, pieces):
    out = []
    for n, (index, start, end) in enumerate(pieces):
        text = paragraphs[index]
        if start > 0 or n > 0:
            out.append(ELLIPSIS)
        inside = [(s - start, e - start, m) for s, e, m in found[index] if start <= s and e <= end]
        out.append(marked(text[start:end], inside))
        if n == len(pieces) - 1 and end < len(text):
            out.append(ELLIPSIS)
    return Markup("".join(out))


def highlight_html(html, strings):
    """Mark the strings in rendered HTML: in its text only, never inside a tag or a character reference."""
    if not strings:
        return Markup(html)
    parts = TAG_OR_REFERENCE.split(str(html))
    for i in range(0, len(parts), 2):  # text, escaped already and free of references
        parts[i] = marked(parts[i], spans(parts[i], strings), escape=str)
    return Markup("".join(parts))

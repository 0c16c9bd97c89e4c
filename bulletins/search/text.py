"""Text as search sees it: normalized, reduced to its searchable characters, cut into words.

Pure functions and the data files they read (bulletins/data/), loaded once per process.
The index and the queries go through the same `searchable()`, so whatever a reader types that
stands in a bulletin, punctuation and full-width forms aside, is found there.
"""

import re
import unicodedata
from functools import cache
from pathlib import Path

DATA = Path(__file__).resolve().parent.parent / "data"
CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff]")
# What search keeps of a text: letters and digits, a decimal point inside a number, a per cent
# sign after one, so that 2.6亿 and 80% are searched as written and 80% does not find 80家.
SEARCHABLE = re.compile(r"[^\W_]|(?<=\d)\.(?=\d)|(?<=\d)[%‰]")
# What searchable() drops: the complement of SEARCHABLE, so that it is one substitution in C;
# where a text holds no ".", "%" or "‰", the plain class, which is faster, drops the same.
DROPPED = re.compile(r"(?!(?<=\d)\.(?=\d)|(?<=\d)[%‰])[\W_]")
PLAIN_DROPPED = re.compile(r"[\W_]")
# Full-width ASCII and the ideographic space as NFKC maps them, by a table: Chinese text holds
# them in nearly every sentence, and they alone would make NFKC normalize the whole text.
FULL_WIDTH = str.maketrans({chr(code): chr(code - 0xFEE0) for code in range(0xFF01, 0xFF5F)} | {"\u3000": " "})
# A figure with its unit (1365元, 2.6亿元, 80%), kept whole as one query word.
FIGURE = re.compile(r"\d+(?:\.\d+)?(?:[%‰]|[万亿千百]*[元人家个名次户所项条岁年月日号]*)")
ASCII_WORD = re.compile(r"^[a-z0-9.%‰]+$")
PARTICLES = "了着过"
SINGLE = re.compile(r"[^\W\d_a-zA-Z]")  # a one-character word a query keeps apart: a letter, not an ASCII one


def data_lines(name):
    """The lines of a data file, each split at white space; comments (#) and blank lines skipped."""
    for line in (DATA / name).read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            yield line.split()


@cache
def tokenizer():
    """jieba with the field's dictionary and the thesaurus's words, for queries only: loaded at
    a process's first search."""
    import jieba

    jieba.setLogLevel(60)
    tk = jieba.Tokenizer()
    tk.load_userdict(str(DATA / "userdict.txt"))
    tk.initialize()
    for word in thesaurus():
        if len(word) > 1:
            tk.add_word(word, tk.suggest_freq(word, tune=False))
    return tk


@cache
def to_simplified():
    import opencc

    return opencc.OpenCC("t2s").convert


@cache
def stopwords():
    return frozenset(word for words in data_lines("stopwords.txt") for word in words)


@cache
def thesaurus():
    """Each word of thesaurus.txt mapped to the other words of its lines, in both directions."""
    related = {}
    for words in data_lines("thesaurus.txt"):
        for word in words:
            related.setdefault(word, {}).update(dict.fromkeys(w for w in words if w != word))
    return {word: tuple(others) for word, others in related.items()}


def normalize(text):
    """Full-width forms to ASCII (NFKC), lower case, control characters to spaces."""
    text = text.translate(FULL_WIDTH)
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    return CONTROL.sub(" ", text).lower()


def dropped(normalized):
    """A normalized text's searchable characters."""
    if "." in normalized or "%" in normalized or "‰" in normalized:
        return DROPPED.sub("", normalized)
    return PLAIN_DROPPED.sub("", normalized)


def searchable(text):
    """The characters search matches on, in order: what the index holds of a text."""
    return dropped(normalize(text))


def searchable_with_offsets(text):
    """searchable(text) and, for each of its characters, where it stands in `text`.

    For marking and quoting: a match found in the searchable characters is mapped back to
    the very characters of the text. Where NFKC changes the text's length, it is normalized
    one character at a time.
    """
    normalized = normalize(text)
    if len(normalized) == len(text):  # nearly always: every character maps to one
        kept = [(m.group(0), m.start()) for m in SEARCHABLE.finditer(normalized)]
        return "".join(ch for ch, _ in kept), [offset for _, offset in kept]
    chars, offsets = [], []
    for index, ch in enumerate(text):
        for norm in normalize(ch):
            chars.append(norm)
            offsets.append(index)
    joined = "".join(chars)
    kept = [(m.group(0), offsets[m.start()]) for m in SEARCHABLE.finditer(joined)]
    return "".join(ch for ch, _ in kept), [offset for _, offset in kept]


def is_searchable(text):
    return SEARCHABLE.search(normalize(text)) is not None


def words(term):
    """The words of a term typed without spaces, as jieba cuts it, figures kept whole.

    Runs of ASCII letters and digits join the words beside them (智志助老e站, 1+N), and single
    characters that are not function words join each other (a name, a word jieba does not
    know: 网咖): alone, an "e", a "1" or a 咖 would match nearly everything.
    """
    text = normalize(term)
    pieces, last = [], 0
    for figure in FIGURE.finditer(text):
        pieces += cut(text[last : figure.start()])
        pieces.append(("figure", figure.group(0)))
        last = figure.end()
    pieces += cut(text[last:])
    merged = []
    for kind, word in pieces:
        ascii_here = kind == "word" and ASCII_WORD.match(word)
        joins = ascii_here or (merged and merged[-1][0] == "ascii")
        if merged and joins and (merged[-1][0] != "figure" or ascii_here):
            merged[-1] = ("ascii" if ascii_here else "word", merged[-1][1] + word)
        else:
            merged.append(("ascii" if ascii_here else kind, word))
    return [searchable(word) for _, word in merged if searchable(word)]


def single_words(text):
    """Where `text`'s own segmentation (jieba's, as for queries) has a word of one character that
    a query can ask for (a letter, not a function word): [offset, ...] in `text`.

    A one-character word left over from a longer query (领 in 老人补贴怎么领) matches only
    there, never inside a longer word (引领, 领域): computed once per paragraph at load.
    """
    found, at = [], 0
    for word in particles_apart(tokenizer().cut(text)):
        if len(word) == 1 and SINGLE.match(word) and word not in stopwords():
            found.append(at)
        at += len(word)
    return found


def section_fields(title, paragraphs):
    """(singles, streams) of a section, as Section stores them: single_words() and searchable() of
    its title and of each paragraph, a line each, made once at load and read by every search."""
    texts = (title, *paragraphs)
    return "\n".join(" ".join(map(str, single_words(text))) for text in texts), "\n".join(map(searchable, texts))


def particles_apart(words):
    """jieba's words with an aspect particle that it joined to a verb (建了, 有过) cut off: the
    verb is the word, the particle a function word."""
    for word in words:
        if len(word) > 1 and word[-1] in PARTICLES and word not in tokenizer().FREQ:
            yield word[:-1]
            yield word[-1]
        else:
            yield word


def cut(text):
    """jieba's words of `text`, with runs of single characters that are not function words joined."""
    out = []
    for word in particles_apart(tokenizer().cut(text)):
        if not is_searchable(word):
            continue
        single = len(word) == 1 and word not in stopwords() and not ASCII_WORD.match(word)
        if single and out and out[-1][0] == "single":
            out[-1] = ("single", out[-1][1] + word)
        else:
            out.append(("single" if single else "word", word))
    return [("word", word) for _, word in out]

"""您是不是要找: a correction for the words of a query that no text of the archive holds,
made from words that it does hold: first a character that sounds the same (pypinyin, for
typing by pinyin: 低宝 for 低保, 养老服物 for 养老服务), then one character too many or
two swapped. A candidate must be a word (jieba's dictionary, the field's, the thesaurus's)
and stand in the archive, by itself or by a related word.
"""

import unicodedata
from functools import cache

from .query import Unit
from .text import thesaurus, tokenizer

MAX_LENGTH = 6  # longer words are not corrected: their candidates multiply, and typos in them are rare
COMMON = 1000  # jieba's count above which a character is common enough to be what a reader meant


def toneless(syllable):
    """A pinyin syllable without its tone marks: líng → ling, lǚ → lv."""
    plain = "".join(ch for ch in unicodedata.normalize("NFD", syllable) if not unicodedata.combining(ch))
    return plain.replace("u\u0308", "v").replace("ü", "v")


@cache
def homophones():
    """{character: the common characters that share one of its readings}."""
    from pypinyin.pinyin_dict import pinyin_dict

    frequency = tokenizer().FREQ
    by_sound, sounds = {}, {}
    for code, readings in pinyin_dict.items():
        ch = chr(code)
        if not "\u4e00" <= ch <= "\u9fff":
            continue
        sounds[ch] = {toneless(reading) for reading in readings.split(",")}
        if frequency.get(ch, 0) >= COMMON:
            for sound in sounds[ch]:
                by_sound.setdefault(sound, []).append(ch)
    return {ch: sorted({alt for sound in found for alt in by_sound.get(sound, ()) if alt != ch}) for ch, found in sounds.items()}


def candidates(word):
    """Strings a reader may have meant by `word`, likeliest kind first: sound-alikes, then edits."""
    sound = [word[:i] + alt + word[i + 1 :] for i, ch in enumerate(word) for alt in homophones().get(ch, ())]
    dropped = [word[:i] + word[i + 1 :] for i in range(len(word))] if len(word) > 2 else []
    swapped = [word[:i] + word[i + 1] + word[i] + word[i + 2 :] for i in range(len(word) - 1)]
    return [("sound", c) for c in sound] + [("edit", c) for c in dropped + swapped if c != word]


def correction(word, stats):
    """The word a reader most likely meant by `word`, which no text holds, or None."""
    if not 1 < len(word) <= MAX_LENGTH:
        return None
    known = tokenizer().FREQ
    best = None
    for rank, (kind, candidate) in enumerate(candidates(word)):
        if not (known.get(candidate) or candidate in thesaurus()):
            continue
        held = stats.frequency(Unit(candidate, (candidate, *thesaurus().get(candidate, ()))))
        if held:
            key = (kind != "sound", -held, rank)
            if best is None or key < best[0]:
                best = (key, candidate)
    return best[1] if best else None


def suggestion(query, stats, simplified):
    """The query's text with each word that no text holds replaced by its correction, or None.
    `simplified` is the query's text in simplified script, as it was parsed."""
    text, changed = simplified, False
    for word in query.absent:
        found = correction(word, stats)
        if found and word in text:
            text, changed = text.replace(word, found, 1), True
    return text if changed else None

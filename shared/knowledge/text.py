"""How knowledge text becomes search terms: the same analysis for what is indexed and what is asked.

Text is NFKC-normalised; Latin words are folded (accents dropped, lower case), English stop words dropped
and the rest stemmed with the Snowball English stemmer ("publishing", "published" → "publish"). Chinese and
Japanese text has no spaces between words: each run of CJK characters becomes its overlapping character bigrams (a lone
character stays a unigram), as Lucene's CJK analyzer does, so "知识库" is found by "知识" and by "识库".
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from functools import lru_cache

MAX_TERM = 64  # longer "words" (hashes, base64) are cut to this; a key must stay small
# Han, Hiragana, Katakana, Hangul, CJK punctuation excluded
_CJK = "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uac00-\ud7af"
_TOKENS = re.compile(rf"[{_CJK}]+|[^\W_{_CJK}]+", re.UNICODE)
_IS_CJK = re.compile(rf"[{_CJK}]")

STOP_WORDS = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "can",
        "do",
        "does",
        "for",
        "from",
        "had",
        "has",
        "have",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "me",
        "my",
        "no",
        "not",
        "of",
        "on",
        "or",
        "our",
        "so",
        "such",
        "that",
        "the",
        "their",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
    ]
)


@lru_cache(maxsize=1)
def _stemmer():
    # imported on first use: only the functions that index or search pay for it
    import snowballstemmer

    return snowballstemmer.stemmer("english")


def fold(word: str) -> str:
    """A Latin word in lower case without accents: "Café" → "cafe". (Kana keep their voicing marks: ジ is not シ.)"""
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).casefold()


@lru_cache(maxsize=4096)
def _stem(word: str) -> str:
    return _stemmer().stemWord(word)


def terms(text: str) -> list[str]:
    """The terms of ``text`` in order, repeated as often as they occur."""
    out: list[str] = []
    for token in _TOKENS.findall(unicodedata.normalize("NFKC", text)):
        if _IS_CJK.match(token):
            out.extend(token if len(token) == 1 else (token[i : i + 2] for i in range(len(token) - 1)))
        elif _word(folded := fold(token)):
            out.append(_stem(folded)[:MAX_TERM])
    return out


def _word(token: str) -> bool:
    """Whether a folded Latin token is worth a term: not a stop word, not a lone letter (the s of "item's")."""
    return token not in STOP_WORDS and (len(token) > 1 or token.isdigit())


def counts(text: str) -> Counter[str]:
    return Counter(terms(text))


def words(text: str) -> list[tuple[int, int, str]]:
    """(start, end, term) of each word of ``text`` as written (for highlighting); CJK runs by bigram."""
    found = []
    for match in _TOKENS.finditer(text):
        token = match.group()
        if _IS_CJK.match(token):
            normal = unicodedata.normalize("NFKC", token)
            if len(normal) == len(token):
                for i in range(max(len(token) - 1, 1)):
                    found.append((match.start() + i, match.start() + min(i + 2, len(token)), normal[i : i + 2]))
        elif _word(folded := fold(token)):
            found.append((match.start(), match.end(), _stem(folded)[:MAX_TERM]))
    return found

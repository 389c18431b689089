"""Split a text into sentences, clauses and phrases, keeping character offsets into the text.

- sentences end at . ! ? followed by space, at line breaks and at bullet markers;
- clauses split a sentence at ``;`` and contrastive links (but, however, although, whereas,
  while), so "great at Python but needs to improve testing" yields two clauses whose polarity
  differs;
- phrases split a clause at commas, slashes, brackets, colons and coordinations (and, or, as
  well as, including), the unit most skills are mentioned in.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum

_SENTENCE_BREAK = re.compile(r"(?<=[.!?])\s+(?=\S)|\s*[\r\n]+\s*|(?:^|\s)[•▪◦·*]\s+|\s+-\s+")
_CLAUSE_BREAK = re.compile(
    r"\s*;\s*|,?\s+(?=(?:but|however|although|though|whereas|while|yet)\b)", re.IGNORECASE)
_PHRASE_BREAK = re.compile(
    r"\s*[,/():\[\]]\s*|\s+(?:and|or|as well as|including|such as|plus|&)\s+", re.IGNORECASE)
_TRIM = " \t\r\n.,;:!?-–—*•'\"()[]"
MIN_CHARS = 2


class Level(StrEnum):
    SENTENCE = "sentence"
    CLAUSE = "clause"
    PHRASE = "phrase"


@dataclass(frozen=True)
class Segment:
    start: int
    end: int
    text: str
    level: Level
    clause: int
    """Index of the clause the segment belongs to (a sentence gets its first clause)."""


def _pieces(text: str, start: int, end: int, pattern: re.Pattern[str]) -> list[tuple[int, int]]:
    """Split ``text[start:end]`` at ``pattern``; trim each piece; drop empty ones."""
    out: list[tuple[int, int]] = []
    cursor = start
    for match in pattern.finditer(text, start, end):
        if match.start() > cursor or match.end() > cursor:
            out.append((cursor, match.start()))
            cursor = match.end()
    out.append((cursor, end))
    trimmed: list[tuple[int, int]] = []
    for lo, hi in out:
        while lo < hi and text[lo] in _TRIM:
            lo += 1
        while hi > lo and text[hi - 1] in _TRIM:
            hi -= 1
        if hi - lo >= MIN_CHARS:
            trimmed.append((lo, hi))
    return trimmed


def sentences(text: str) -> list[tuple[int, int]]:
    return _pieces(text, 0, len(text), _SENTENCE_BREAK)


@dataclass
class Segmentation:
    segments: list[Segment]
    clauses: list[tuple[int, int]]
    """Character span of each clause; ``Segment.clause`` indexes this list."""
    sentences: list[tuple[int, int]] = field(default_factory=list)
    """Character span of each sentence; every segment lies inside one."""
    products: dict[tuple[int, int], frozenset[int]] = field(default_factory=dict)
    """Spans of technology names and the skills each stands for: a segment on such a span
    credits only those skills (its label's neighbours are look-alikes, not what it means)."""
    look_alikes: frozenset[int] = frozenset()
    """Skills whose label is a product name's word but which the product does not stand for
    ("SPARK" the ESCO skill, in "Spark"): no segment of the text credits them."""


def segment(text: str, max_segments: int = 10_000) -> Segmentation:
    """Sentences, clauses and phrases of ``text``; a span repeated at a finer level is dropped.

    A sentence made of several clauses is not a segment of its own: its clauses may differ in
    polarity, and a match on the whole sentence could not say which clause it came from.
    """
    out: list[Segment] = []
    clause_list: list[tuple[int, int]] = []
    seen: set[tuple[int, int]] = set()

    def add(lo: int, hi: int, level: Level) -> None:
        if (lo, hi) not in seen and len(out) < max_segments:
            seen.add((lo, hi))
            out.append(Segment(lo, hi, text[lo:hi], level, len(clause_list) - 1))

    sentence_list: list[tuple[int, int]] = []
    for s_lo, s_hi in sentences(text):
        sentence_list.append((s_lo, s_hi))
        clauses = _pieces(text, s_lo, s_hi, _CLAUSE_BREAK) or [(s_lo, s_hi)]
        for c_lo, c_hi in clauses:
            clause_list.append((c_lo, c_hi))
            if len(clauses) == 1:
                add(s_lo, s_hi, Level.SENTENCE)
            add(c_lo, c_hi, Level.CLAUSE)
            for p_lo, p_hi in _pieces(text, c_lo, c_hi, _PHRASE_BREAK):
                add(p_lo, p_hi, Level.PHRASE)
        if len(out) >= max_segments:
            break
    return Segmentation(out, clause_list, sentence_list)

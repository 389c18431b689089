"""Exact and alias matching: ESCO labels that appear verbatim in the text.

The text is tokenized the way ``catalog.normalize`` normalizes labels; every window of up to
``max_tokens`` tokens is looked up in the alias table. One- and two-character labels ("R", "C")
must match with the label's own capitalization, and common function words never match.

Only maximal matches count: a label found inside a longer label's verbatim occurrence is not a
match ("perform clinical coding procedures" names that skill, not *clinical coding*; "organise
information, objects and resources" is not *organise information*). Labels of up to 12 tokens
are looked up (all but 2 of ESCO's 13,896 preferred labels).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from features.inferred_skills import MatchKind
from inference.skills.catalog import SkillCatalog, normalize

_TOKEN = re.compile(r"[\w+#.]+")
_PROPER = re.compile(r"[A-Z0-9+#]")
_STOP = frozenset([
    "a", "an", "the", "and", "or", "of", "to", "in", "on", "at", "for", "with", "by", "from",
    "as", "is", "are", "be", "it", "its", "this", "that", "we", "you", "our", "your", "they",
    "he", "she", "his", "her", "their", "will", "can", "may", "must", "should", "would", "could",
    "not", "no", "yes", "all", "any", "more", "most", "other", "some", "such", "only", "own",
    "same", "so", "than", "too", "very", "just", "also", "well", "new", "one", "two", "work",
    "working", "team", "lead", "plan", "act", "go", "run", "make", "do", "use", "using", "help",
])


@dataclass(frozen=True)
class LabelMatch:
    skill: int
    start: int
    end: int
    kind: MatchKind
    tokens: int
    proper: bool = False
    """The label as ESCO writes it has capitals, digits or + # (a name: "Python", "AWS")."""


def _tokens(text: str) -> list[tuple[int, int, str]]:
    out: list[tuple[int, int, str]] = []
    for match in _TOKEN.finditer(text):
        lo, hi = match.span()
        while lo < hi and text[lo] == ".":
            lo += 1
        while hi > lo and text[hi - 1] == ".":
            hi -= 1
        if hi > lo:
            out.append((lo, hi, text[lo:hi].lower()))
    return out


MAX_LABEL_TOKENS = 12


def find_labels(text: str, catalog: SkillCatalog,
                max_tokens: int = MAX_LABEL_TOKENS) -> list[LabelMatch]:
    """Every maximal verbatim label occurrence: one inside a longer match is dropped
    (`maximal`); matches that overlap without one containing the other are both kept."""
    tokens = _tokens(text)
    found: list[LabelMatch] = []
    for i in range(len(tokens)):
        key = ""
        for n in range(1, max_tokens + 1):
            if i + n > len(tokens):
                break
            key = tokens[i + n - 1][2] if n == 1 else f"{key} {tokens[i + n - 1][2]}"
            if key not in catalog.alias_prefixes:
                break  # no label begins with these words: a wider window cannot be one
            owners = catalog.aliases.get(key)
            if not owners:
                continue
            lo, hi = tokens[i][0], tokens[i + n - 1][1]
            if n == 1 and key in _STOP:
                continue
            surface = text[lo:hi]
            preferred = key in catalog.preferred_keys
            for owner in owners:
                skill = catalog.skills[owner]
                if len(key) <= 2 and surface not in {skill.label, *skill.alt_labels}:
                    continue
                exact = preferred and key == normalize(skill.label)
                proper = any(normalize(form) == key and _PROPER.search(form)
                             for form in (skill.label, *skill.alt_labels))
                found.append(LabelMatch(owner, lo, hi,
                                        MatchKind.EXACT if exact else MatchKind.ALIAS, n,
                                        proper))
    return maximal(found)


def maximal(matches: list[LabelMatch]) -> list[LabelMatch]:
    """The matches no longer match contains (the same span, for several skills, is kept)."""
    spans = sorted({(m.start, m.end) for m in matches}, key=lambda s: (s[0], -s[1]))
    inside: set[tuple[int, int]] = set()
    reach = -1  # the furthest end of a span starting at or before this one
    for lo, hi in spans:
        if hi <= reach:
            inside.add((lo, hi))
        reach = max(reach, hi)
    return [m for m in matches if (m.start, m.end) not in inside]


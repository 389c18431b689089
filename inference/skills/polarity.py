"""Is a clause of a review praise or a developmental remark?

Rule-based and deliberately conservative: a clause is a development need when it carries a cue
such as "needs to improve", "should work on", "would benefit from", "lacks", "struggles with",
"area for development" or "not yet"; everything else in a review counts as a strength. A
developmental remark never credits its skill as a strength.
"""

from __future__ import annotations

import re

from features.inferred_skills import Polarity, SourceKind

_CUES = [
    r"needs? (?:to|more|some|further|additional|a stronger|better)",
    r"(?:should|could|must|has to|have to|ought to|would need to) "
    r"(?:improve|develop|work on|focus on|strengthen|build|learn|grow|get better|practi[cs]e|"
    r"invest|pay more attention|be more|become more|spend more)",
    r"would benefit from", r"could benefit from", r"will benefit from",
    r"\b(?:lacks?|lacking)\b", r"\bstruggl(?:es?|ing|ed) (?:with|to)\b",
    r"areas? (?:for|of) (?:development|improvement|growth)", r"development (?:area|need|goal)s?",
    r"room for improvement", r"\bgrowth areas?\b", r"\bdevelopment areas?\b",
    r"\b(?:more|gain|build|lacks?) confidence\b", r"\bnot (?:yet )?(?:comfortable|confident)\b",
    r"\bnot yet\b", r"\bnot (?:always|consistently|sufficiently|enough)\b",
    r"\b(?:is|are|was|remains?) (?:weak|limited|inconsistent|insufficient)\b",
    r"\bweak(?:ness|nesses)? (?:in|at|on)\b", r"\bgap in\b",
    r"\bimprove(?:ment)? (?:in|on|of|his|her|their|the|its)\b", r"\bto improve\b",
    r"\bwork on (?:his|her|their|improving|developing)\b", r"\bdevelop(?:ing)? (?:his|her|their)\b",
    r"\bhas difficulty\b", r"\bdifficult(?:y|ies) (?:with|in)\b", r"\bfocus (?:area|for next)\b",
    r"\bbelow expectations\b", r"\bunder-?developed\b", r"\binexperienced\b",
]
_DEVELOPMENT = re.compile("|".join(f"(?:{cue})" for cue in _CUES), re.IGNORECASE)
REVIEW_SOURCES = frozenset({SourceKind.PERFORMANCE_REVIEW, SourceKind.SELF_DESCRIPTION})


def is_developmental(clause: str) -> bool:
    return _DEVELOPMENT.search(clause) is not None


def clause_polarity(clause: str, source: SourceKind) -> Polarity | None:
    """Polarity of a clause for review-like sources; ``None`` for other sources."""
    if source not in REVIEW_SOURCES:
        return None
    return Polarity.DEVELOPMENT_NEED if is_developmental(clause) else Polarity.STRENGTH

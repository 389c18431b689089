"""Plain-word reasons for one ranking prediction from per-feature contributions.

LightGBM's ``predict(..., pred_contrib=True)`` returns, per row, one SHAP-style contribution per
feature plus the expected value last. ``top_reasons`` turns the largest ones into sentences.
A sentence is shown only when it is true of the item (`holds`): a feature can push a score up
while its value says nothing good (a negative profile similarity, an essential-skill coverage of
100 % of no essential skill), and such a contribution is not offered as a reason.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from features.ranking import ASPIRATION_RELEVANT, FEATURE_NAMES, NO_EVENT_DAYS

# feature -> (sentence when it helped, sentence when it hurt); {v} is the formatted value
TEMPLATES: dict[str, tuple[str, str]] = {
    "embedding_cosine": ("Your overall skill profile is close to this one",
                         "Your overall skill profile is far from this one"),
    "skill_coverage": ("You already cover {v} of the skills it needs",
                       "You cover only {v} of the skills it needs"),
    "skill_gap": ("Only a small skill gap is left to close",
                  "There is a sizeable skill gap to close"),
    "essential_coverage": ("You meet {v} of the essential skills",
                           "You meet only {v} of the essential skills"),
    "missing_essentials": ("No essential skill is missing",
                           "{v} essential skills are missing from your profile"),
    "required_confidence": ("The evidence for your matching skills is solid",
                            "The evidence for your matching skills is thin"),
    "level_delta": ("{v}, which suits a next move", "{v}, which counts against it"),
    "level_distance": ("The level is close to yours", "The level is far from yours ({v})"),
    "job_family_distance": ("It is in or near your job family",
                            "It is outside your job family"),
    "same_department": ("It is in your department", "It is in another department"),
    "same_location": ("It is at your location", "It is at another location"),
    "years_in_company": ("You have {v} years in the company",
                         "You joined recently ({v} years)"),
    "years_in_role": ("You have {v} years in your current role",
                      "You moved into your role recently ({v} years)"),
    "prior_moves": ("Your past moves ({v}) show mobility", "Past moves ({v}) weigh against it"),
    "days_since_relevant_learning": ("You recently learned skills it needs ({v} days ago)",
                                     "No recent learning on the skills it needs"),
    "relevant_learning_365d": ("You completed {v} relevant courses this year",
                               "No relevant course this year"),
    "days_since_relevant_evidence": ("Recent work shows skills it needs ({v} days ago)",
                                     "No recent evidence of the skills it needs"),
    "endorsements_on_required": ("Colleagues endorsed you on skills it needs",
                                 "Few endorsements on the skills it needs"),
    "aspiration_match": ("It is what you said you want to grow towards",
                         "It is away from your stated aspirations"),
    "career_changer_adjacency": ("People in your occupation often move to this one",
                                 "This is not a usual move from your occupation"),
}
for _kind in (n for n in FEATURE_NAMES if n.startswith("kind_")):
    _label = _kind.removeprefix("kind_").replace("_", " ")
    TEMPLATES[_kind] = (f"You tend to suit this kind of opportunity ({_label})",
                        f"This kind of opportunity ({_label}) is a weaker fit")

_PERCENT = {"skill_coverage", "essential_coverage"}


@dataclass(frozen=True)
class ReasonFacts:
    """What the feature row alone cannot tell about the item a reason speaks of."""

    has_essentials: bool = True
    """The item has essential skills (else "you meet 100 % of them" is vacuous)."""
    location_known: bool = True
    """The item names a location (the location feature is 1 for an unplaced item too)."""


GOOD_WHEN: dict[str, Callable[[float, ReasonFacts], bool]] = {
    "embedding_cosine": lambda v, f: v >= 0.5,
    "skill_coverage": lambda v, f: v >= 0.3,
    "skill_gap": lambda v, f: v <= 0.3,
    "essential_coverage": lambda v, f: f.has_essentials and v >= 0.5,
    "missing_essentials": lambda v, f: f.has_essentials and v == 0,
    "required_confidence": lambda v, f: v >= 0.5,
    "level_distance": lambda v, f: v <= 1,
    "job_family_distance": lambda v, f: v <= 1,
    "same_department": lambda v, f: v >= 1,
    "same_location": lambda v, f: f.location_known and v >= 1,
    "prior_moves": lambda v, f: v >= 1,
    "days_since_relevant_learning": lambda v, f: v < NO_EVENT_DAYS,
    "relevant_learning_365d": lambda v, f: v >= 1,
    "days_since_relevant_evidence": lambda v, f: v < NO_EVENT_DAYS,
    "endorsements_on_required": lambda v, f: v > 0,
    "aspiration_match": lambda v, f: v >= ASPIRATION_RELEVANT,
    "career_changer_adjacency": lambda v, f: v > 0,
}
"""When a feature's "it helped" sentence is true; features not listed always read true."""


SAME_FACT: dict[str, str] = {
    "skill_coverage": "requirements held", "skill_gap": "requirements held",
    "essential_coverage": "essentials held", "missing_essentials": "essentials held",
}
"""Features that state one fact in two ways (the share of the requirements held and the gap
left; the essential skills met and those missing): one sentence per fact in a list of reasons,
not "you cover 51% of the skills" followed by "only a small skill gap is left"."""

PHRASED_BY: dict[str, str] = {"skill_gap": "skill_coverage"}
"""A feature whose fact is told in its partner's words: "you already cover 75% of the skills it
needs" says what "only a small skill gap is left" does, with the figure (a weighted gap can be
small with one of four skills held)."""


def holds(name: str, value: float, helped: bool, facts: ReasonFacts) -> bool:
    """Whether the sentence for ``name`` at ``value`` is true (``helped``: the good one).
    Both sentences of a ``kind_*`` feature speak of the item's own kind: true only when the
    item is of that kind (value 1), not of a kind it is not."""
    if name.startswith("kind_"):
        return value >= 1.0
    if not helped:
        return True
    check = GOOD_WHEN.get(name)
    return check is None or check(value, facts)


@dataclass(frozen=True)
class Reason:
    feature: str
    value: float
    contribution: float
    text: str


def level_step(delta: float) -> str:
    """A level difference (the item's level minus the person's) in words."""
    steps = round(delta)
    if steps == 0:
        return "It is at your level"
    count = "one level" if abs(steps) == 1 else f"{abs(steps)} levels"
    return f"It is {count} {'above' if steps > 0 else 'below'} yours"


def _fmt(name: str, value: float) -> str:
    if name == "level_delta":
        return level_step(value)
    if name in _PERCENT:
        return f"{value:.0%}"
    if name.startswith("days_since") and value >= NO_EVENT_DAYS:
        return "never"
    if float(value).is_integer():
        return f"{int(value)}"
    if name.startswith("years_"):
        return f"{value:.1f}"  # "1.4 years", not "1.40"
    return f"{value:.2f}"


def top_reasons(row: Sequence[float] | np.ndarray, contributions: Sequence[float] | np.ndarray,
                feature_names: Sequence[str] = FEATURE_NAMES, k: int = 3,
                positive_only: bool = False, facts: ReasonFacts | None = None,
                ) -> list[Reason]:
    """The ``k`` features that moved this score most, as plain-word reasons.

    ``contributions`` has one value per feature, optionally followed by the expected value
    (as LightGBM returns it), which is ignored. With ``facts``, a contribution whose sentence
    would be false of the item (`holds`) is skipped; so is one whose fact a larger one already
    stated (`SAME_FACT`); a gap is told as the share held (`PHRASED_BY`).
    """
    contrib = np.asarray(contributions, dtype=np.float64)[: len(feature_names)]
    values = np.asarray(row, dtype=np.float64)
    order = np.argsort(-np.abs(contrib), kind="stable")
    reasons: list[Reason] = []
    stated: set[str] = set()
    for i in order:
        c = float(contrib[i])
        if c == 0.0 or (positive_only and c < 0):
            continue
        name = feature_names[i]
        value = float(values[i])
        if name in PHRASED_BY and PHRASED_BY[name] in feature_names:
            name = PHRASED_BY[name]
            value = float(values[list(feature_names).index(name)])
        if facts is not None and not holds(name, value, c > 0, facts):
            continue
        fact = SAME_FACT.get(name, name)
        if fact in stated:
            continue
        stated.add(fact)
        good, bad = TEMPLATES.get(name, (f"{name} helps ({{v}})", f"{name} hurts ({{v}})"))
        text = (good if c > 0 else bad).format(v=_fmt(name, value))
        reasons.append(Reason(name, value, c, text))
        if len(reasons) == k:
            break
    return reasons


def explain(booster: Any, row: Sequence[float] | np.ndarray, k: int = 3,
            feature_names: Sequence[str] = FEATURE_NAMES,
            positive_only: bool = False) -> list[Reason]:
    """Top reasons for one row scored by a LightGBM ``Booster`` (``pred_contrib=True``)."""
    x = np.asarray(row, dtype=np.float64).reshape(1, -1)
    contrib = np.asarray(booster.predict(x, pred_contrib=True))[0]
    return top_reasons(x[0], contrib, feature_names, k, positive_only)

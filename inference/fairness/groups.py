"""Protected attributes -> group labels, one mapping per audited dimension.

This is the one place in `inference` that turns `ProtectedAttributes` (read only through
`features.protected`) into the plain ``{employee_id: group}`` mappings every other fairness
function takes. Missing or blank values become the category ``"unknown"``, never a dropped row.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from features.domain import ProtectedAttributes

SEX = "sex"
RACE = "race_ethnicity"
INTERSECTION = "sex_x_race_ethnicity"
DIMENSIONS: tuple[str, ...] = (SEX, RACE, INTERSECTION)
UNKNOWN = "unknown"
INTERSECTION_SEP = " | "

Grouping = Mapping[str, str]
"""``{candidate or employee id: group label}`` for one dimension."""

_UNKNOWN_SPELLINGS = frozenset({"", "unknown", "not disclosed", "not specified", "n/a", "na",
                                "none", "declined", "prefer not to say"})


def normalize_value(value: str | None) -> str:
    """A group label: stripped, with blank / undisclosed spellings mapped to ``"unknown"``."""
    if value is None:
        return UNKNOWN
    text = str(value).strip()
    return UNKNOWN if text.lower() in _UNKNOWN_SPELLINGS else text


def intersection_label(sex: str, race: str) -> str:
    return f"{sex}{INTERSECTION_SEP}{race}"


def protected_groupings(
    attributes: Mapping[str, ProtectedAttributes], ids: Iterable[str] | None = None
) -> dict[str, dict[str, str]]:
    """``{dimension: {id: group}}`` for sex, race/ethnicity and their intersection.

    ``ids`` (default: every id in ``attributes``) decides who is mapped; an id without a row in
    ``attributes`` is ``"unknown"`` on every dimension (counted, not dropped).
    """
    wanted = list(attributes) if ids is None else list(dict.fromkeys(ids))
    out: dict[str, dict[str, str]] = {SEX: {}, RACE: {}, INTERSECTION: {}}
    for key in wanted:
        attrs = attributes.get(key)
        sex = normalize_value(attrs.sex.value if attrs else None)
        race = normalize_value(attrs.race_ethnicity if attrs else None)
        out[SEX][key] = sex
        out[RACE][key] = race
        out[INTERSECTION][key] = intersection_label(sex, race)
    return out


def is_unknown(label: str) -> bool:
    """``unknown`` itself, or an intersection with an unknown component (``"male | unknown"``):
    a cell whose membership is not known on every axis is the unknown category of that axis."""
    return label == UNKNOWN or UNKNOWN in label.split(INTERSECTION_SEP)


def group_of(grouping: Grouping, key: str) -> str:
    """The group of ``key``; ids missing from the mapping are ``"unknown"``."""
    return normalize_value(grouping.get(key))

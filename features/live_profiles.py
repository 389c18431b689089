"""A served profile updated with new observations, by the maths `features.profiles` defines.

`build_employee_profile` keeps, per skill, ``total = sum(weight)`` and ``level_sum =
sum(weight * level)``; proficiency is ``level_sum / total`` and confidence
``1 - exp(-total / saturation)``. Both sums are recovered from a served entry
(``total = -saturation * ln(1 - confidence)``), the new observations' weights (same reliability,
engine score and decay) are added, and the entry is recomputed. New evidence is weighed as of the
profile's own date (no decay): serving's clock is the snapshot the model was trained on, and the
next ``waypoint skills profiles`` run rebuilds the profile from every observation with its real
date. Skills that had fallen under ``min_confidence`` in the snapshot are not in a served profile
and restart from the new evidence alone (a small under-estimate until that run).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from features.domain import EmployeeProfile, ProfileEntry
from features.params import ProfileParams
from features.profiles import Observation, ObservationSource, decay

MAX_CONFIDENCE = 0.9999
"""Rounded confidences of 1.0 read as this (the sums stay finite)."""


def add_observations(profile: EmployeeProfile, observations: Iterable[Observation],
                     params: ProfileParams) -> EmployeeProfile:
    """``profile`` with ``observations`` aggregated in, entries re-sorted as the builder sorts."""
    totals: dict[str, float] = {}
    level_sums: dict[str, float] = {}
    evidence: dict[str, set[str]] = {}
    for entry in profile.entries:
        confidence = min(entry.confidence, MAX_CONFIDENCE)
        total = -params.saturation * math.log(1.0 - confidence)
        totals[entry.skill_uri] = total
        level_sums[entry.skill_uri] = total * entry.proficiency
        evidence[entry.skill_uri] = set(entry.evidence_ids)
    added = False
    for obs in observations:
        reliability = params.reliability.get(ObservationSource(obs.source).value, 0.5)
        weight = reliability * obs.score * decay(
            (profile.as_of - obs.occurred_on).days, params.half_life_days)
        if weight <= 0:
            continue
        added = True
        totals[obs.skill_uri] = totals.get(obs.skill_uri, 0.0) + weight
        level_sums[obs.skill_uri] = level_sums.get(obs.skill_uri, 0.0) + weight * obs.level
        evidence.setdefault(obs.skill_uri, set()).add(obs.evidence_id)
    if not added:
        return profile
    entries = []
    for uri, total in totals.items():
        confidence = 1.0 - math.exp(-total / params.saturation)
        if confidence < params.min_confidence:
            continue
        entries.append(ProfileEntry(
            skill_uri=uri, proficiency=round(min(1.0, level_sums[uri] / total), 4),
            confidence=round(confidence, 4), evidence_ids=tuple(sorted(evidence[uri]))))
    entries.sort(key=lambda e: (-e.proficiency * e.confidence, e.skill_uri))
    return profile.model_copy(update={"entries": tuple(entries)})

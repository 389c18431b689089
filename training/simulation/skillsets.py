"""Hidden true skills of one person as parallel arrays, and skill fit against a role.

A person's skills are three aligned arrays sorted by skill index: proficiency in [0, 1] and the
day (date ordinal) from which they held it. Fit to a role is the role-weighted mean proficiency
over the role's skills, counting only skills held on the day in question.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(slots=True)
class SkillSet:
    idx: np.ndarray
    prof: np.ndarray
    since: np.ndarray

    @classmethod
    def empty(cls) -> SkillSet:
        return cls(np.zeros(0, np.int32), np.zeros(0, np.float32), np.zeros(0, np.int32))

    def merge(self, idx: np.ndarray, prof: np.ndarray, since: np.ndarray) -> None:
        """Add skills; a skill already held keeps the higher proficiency and the earlier day."""
        if len(idx) == 0:
            return
        all_idx = np.concatenate([self.idx, idx.astype(np.int32)])
        all_prof = np.concatenate([self.prof, prof.astype(np.float32)])
        all_since = np.concatenate([self.since, since.astype(np.int32)])
        order = np.lexsort((all_since, all_idx))
        all_idx, all_prof, all_since = all_idx[order], all_prof[order], all_since[order]
        unique, starts = np.unique(all_idx, return_index=True)
        self.idx = unique
        self.prof = np.maximum.reduceat(all_prof, starts).astype(np.float32)
        self.since = all_since[starts]

    def held_on(self, day: int) -> np.ndarray:
        """Mask of skills held on ``day``."""
        return self.since <= day


def fit_score(skills: SkillSet, role_idx: np.ndarray, role_weight: np.ndarray, day: int) -> float:
    """Weighted mean proficiency over the role's skills on ``day``, in [0, 1]."""
    total = float(role_weight.sum())
    if total <= 0 or len(skills.idx) == 0:
        return 0.0
    return float((proficiency_on(skills, role_idx, day) * role_weight).sum()) / total


def proficiency_on(skills: SkillSet, role_idx: np.ndarray, day: int) -> np.ndarray:
    """Proficiency in each of ``role_idx`` (sorted skill indices) on ``day``; 0 where not held."""
    if len(skills.idx) == 0:
        return np.zeros(len(role_idx), dtype=np.float32)
    pos = np.minimum(np.searchsorted(skills.idx, role_idx), len(skills.idx) - 1)
    held = (skills.idx[pos] == role_idx) & (skills.since[pos] <= day)
    return np.where(held, skills.prof[pos], np.float32(0.0))

"""`feature_matrix` for a fixed list of targets, vectorised: the same rows, computed with numpy.

`features.ranking.feature_row` walks one target's requirements in Python; serving scores a few
hundred retrieved opportunities per request, so that walk dominated a recommendation's latency.
`TargetTable` lays the targets out once (requirements as a CSR matrix over a skill vocabulary,
target attributes as code arrays, title/description tokens as a second CSR matrix) and
`TargetTable.matrix` computes the rows of any subset of them for one `EmployeeContext`.

Every sum adds the same float64 terms in the same order as `feature_row` (``np.bincount`` adds
sequentially) and ``embedding_cosine`` is `features.ranking.cosine` per row (a matrix-vector
product would round float32 differently), so the rows are equal to `feature_row`'s, bit for bit:
no training/serving skew. `feature_row` stays the reference; tests compare the two.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from features.domain import OpportunityKind, RequirementProfile
from features.ranking import (
    _KIND_ONE_HOT,
    FEATURE_NAMES,
    GENERIC_TITLE_WORDS,
    NO_EVENT_DAYS,
    EmployeeContext,
    Target,
    _years,
    aspiration_words,
    cosine,
)

_NONE = -1
_COLUMN = {name: i for i, name in enumerate(FEATURE_NAMES)}


def _code(table: dict[str, int], value: str | None) -> int:
    if value is None:
        return _NONE
    return table.setdefault(value, len(table))


def _csr(rows: Sequence[Sequence[int]]) -> tuple[np.ndarray, np.ndarray]:
    indptr = np.zeros(len(rows) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum([len(r) for r in rows])
    flat = np.fromiter((v for r in rows for v in r), dtype=np.int64, count=int(indptr[-1]))
    return indptr, flat


def _gather(indptr: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(positions into the CSR data, segment number of each) for ``rows``, in row order."""
    starts = indptr[rows]
    lengths = indptr[rows + 1] - starts
    total = int(lengths.sum())
    segment = np.repeat(np.arange(len(rows)), lengths)
    offsets = np.repeat(starts - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths)
    return offsets + np.arange(total), segment


class TargetTable:
    """Targets and their requirement profiles, laid out for `matrix`."""

    def __init__(self, targets: Sequence[Target],
                 requirements: Sequence[RequirementProfile]) -> None:
        if len(targets) != len(requirements):
            raise ValueError("one requirement profile per target")
        self.targets = list(targets)
        self.skills: dict[str, int] = {}
        skill_rows = [[_code(self.skills, r.skill_uri) for r in reqs.requirements]
                      for reqs in requirements]
        self.req_indptr, self.req_skill = _csr(skill_rows)
        reqs_flat = [r for reqs in requirements for r in reqs.requirements]
        self.importance = np.array([r.importance for r in reqs_flat], dtype=np.float64)
        self.level = np.array([r.level for r in reqs_flat], dtype=np.float64)
        self.essential = np.array([r.essential for r in reqs_flat], dtype=bool)
        totals = []
        for reqs in requirements:  # summed in order, as feature_row does
            total = 0.0
            for r in reqs.requirements:
                total += r.importance
            totals.append(total)
        self.total_importance = np.array(totals, dtype=np.float64)
        self.essential_count = np.array(
            [float(sum(r.essential for r in reqs.requirements)) for reqs in requirements])
        self.target_level = np.array([t.level for t in targets], dtype=np.float64)
        self._departments: dict[str, int] = {}
        self.department = np.array([_code(self._departments, t.department_id) for t in targets])
        self._locations: dict[str, int] = {}
        self.location = np.array([_code(self._locations, t.location) for t in targets])
        self._families: dict[str, int] = {}
        self.family = np.array([_code(self._families, t.job_family) for t in targets])
        self._majors: dict[str, int] = {}
        self.major = np.array([_code(self._majors, t.onet_code[:2] if t.onet_code else None)
                               for t in targets])
        self.onet_codes = [t.onet_code for t in targets]
        self.kind_one_hot = np.array([_KIND_ONE_HOT[t.kind] for t in targets], dtype=np.float64)
        self._tokens: dict[str, int] = {}
        self.token_indptr, self.token_ids = _csr([
            [_code(self._tokens, w) for w in sorted(aspiration_words(t))]
            for t in targets])

    def __len__(self) -> int:
        return len(self.targets)

    def matrix(self, ctx: EmployeeContext, rows: Sequence[int] | np.ndarray,
               target_vectors: np.ndarray | None = None,
               adjacency: Mapping[tuple[str, str], int] | None = None) -> np.ndarray:
        """``feature_matrix(ctx, [(targets[r], requirements[r]) for r in rows], target_vectors,
        adjacency)``; ``target_vectors`` is aligned with ``rows``."""
        rows = np.asarray(rows, dtype=np.int64)
        n = len(rows)
        out = np.empty((n, len(FEATURE_NAMES)), dtype=np.float64)
        if n == 0:
            return out
        emp = ctx.employee
        vocab = len(self.skills)
        has = np.zeros(vocab, dtype=bool)
        prof = np.zeros(vocab)
        conf = np.zeros(vocab)
        for uri, (p, c) in ctx.skills.items():
            k = self.skills.get(uri)
            if k is not None:
                has[k], prof[k], conf[k] = True, p, c
        known = np.zeros(vocab, dtype=bool)
        endorsed = np.zeros(vocab)
        learned = np.full(vocab, -1.0)
        recent = np.zeros(vocab)
        evidenced = np.full(vocab, -1.0)
        for uri, (e, d, r, d_ev) in ctx.skill_history.items():
            k = self.skills.get(uri)
            if k is not None:
                known[k], endorsed[k], recent[k] = True, e, r
                if d is not None:
                    learned[k] = d.toordinal()
                if d_ev is not None:
                    evidenced[k] = d_ev.toordinal()

        pos, seg = _gather(self.req_indptr, rows)
        skill = self.req_skill[pos]
        imp, level, ess = self.importance[pos], self.level[pos], self.essential[pos]
        hit, p, c = has[skill], prof[skill], conf[skill]
        ratio = np.minimum(p / np.where(level > 0.05, level, 0.05), 1.0)
        covered_terms = np.where(hit, imp * ratio, 0.0)
        gap_terms = np.where(hit, np.where(level > p, imp * (level - p), 0.0), imp * level)
        matched = hit & (p > 0.0)
        past = known[skill]

        def total(weights: np.ndarray) -> np.ndarray:
            return np.bincount(seg, weights=weights, minlength=n)

        def latest(days: np.ndarray) -> np.ndarray:
            best = np.full(n, -1.0)
            np.maximum.at(best, seg, np.where(past, days, -1.0))
            return best

        total_imp = self.total_importance[rows]
        some = total_imp > 0
        denom = np.where(some, total_imp, 1.0)
        ess_total = self.essential_count[rows]
        n_matched = total(matched.astype(np.float64))
        as_of = float(ctx.as_of.toordinal())
        last_learn = latest(learned[skill])
        last_ev = latest(evidenced[skill])
        level_delta = self.target_level[rows] - float(emp.level)

        col = _COLUMN
        if ctx.vector is None or target_vectors is None:
            out[:, col["embedding_cosine"]] = np.nan
        else:
            v = ctx.vector  # one np.dot per row, as feature_row: float32 sums in its order
            out[:, col["embedding_cosine"]] = [cosine(v, t) for t in target_vectors]
        out[:, col["skill_coverage"]] = np.where(some, total(covered_terms) / denom, 0.0)
        out[:, col["skill_gap"]] = np.where(some, total(gap_terms) / denom, 0.0)
        ess_cov = total(np.where(ess & hit, ratio, 0.0))
        out[:, col["essential_coverage"]] = np.where(
            ess_total > 0, ess_cov / np.where(ess_total > 0, ess_total, 1.0), 1.0)
        out[:, col["missing_essentials"]] = total((ess & ~(hit & (p != 0.0))).astype(np.float64))
        conf_sum = total(np.where(matched, c, 0.0))
        out[:, col["required_confidence"]] = np.where(
            n_matched > 0, conf_sum / np.where(n_matched > 0, n_matched, 1.0), 0.0)
        out[:, col["level_delta"]] = level_delta
        out[:, col["level_distance"]] = np.abs(level_delta)
        out[:, col["job_family_distance"]] = self._family_distance(ctx, rows)
        department = self._departments.get(emp.department_id, -2)
        out[:, col["same_department"]] = (self.department[rows] == department).astype(float)
        location = self._locations.get(emp.location, -2) if emp.location is not None else -2
        loc = self.location[rows]
        out[:, col["same_location"]] = ((loc == _NONE) | (loc == location)).astype(float)
        out[:, col["years_in_company"]] = _years(emp.hired_on, ctx.as_of)
        out[:, col["years_in_role"]] = _years(emp.role_since, ctx.as_of)
        out[:, col["prior_moves"]] = float(ctx.prior_moves)
        out[:, col["days_since_relevant_learning"]] = np.where(
            last_learn >= 0, as_of - last_learn, NO_EVENT_DAYS)
        out[:, col["relevant_learning_365d"]] = total(np.where(past, recent[skill], 0.0))
        out[:, col["days_since_relevant_evidence"]] = np.where(
            last_ev >= 0, as_of - last_ev, NO_EVENT_DAYS)
        endorse = total(np.where(past, imp * endorsed[skill] / 3.0, 0.0))
        out[:, col["endorsements_on_required"]] = np.where(some, endorse / denom, 0.0)
        out[:, col["aspiration_match"]] = self._aspiration(ctx, rows)
        out[:, col["career_changer_adjacency"]] = self._adjacency(ctx, rows, adjacency)
        first_kind = col[f"kind_{next(iter(OpportunityKind)).value}"]
        out[:, first_kind:first_kind + len(OpportunityKind)] = self.kind_one_hot[rows]
        return out

    def _family_distance(self, ctx: EmployeeContext, rows: np.ndarray) -> np.ndarray:
        role = ctx.current_role
        out = np.ones(len(rows))
        if role is None:
            return out
        if role.onet_code:
            major = self._majors.get(role.onet_code[:2], -2)
            out[self.major[rows] == major] = 0.5
        if role.job_family is not None:
            family = self._families.get(role.job_family, -2)
            out[self.family[rows] == family] = 0.0
        return out

    def _aspiration(self, ctx: EmployeeContext, rows: np.ndarray) -> np.ndarray:
        """`features.ranking.aspiration_share` of every row, from the token index."""
        wanted = ctx.aspiration_tokens
        if not wanted:
            return np.zeros(len(rows))
        distinctive = wanted - GENERIC_TITLE_WORDS
        pos, seg = _gather(self.token_indptr, rows)

        def shared(words: frozenset[str]) -> np.ndarray:
            mine = np.zeros(len(self._tokens), dtype=bool)
            for w in words:
                k = self._tokens.get(w)
                if k is not None:
                    mine[k] = True
            return np.bincount(seg, weights=mine[self.token_ids[pos]].astype(np.float64),
                               minlength=len(rows))

        share = shared(wanted) / len(wanted)
        if distinctive:
            share = np.minimum(share, shared(distinctive) / len(distinctive))
        return share

    def _adjacency(self, ctx: EmployeeContext, rows: np.ndarray,
                   adjacency: Mapping[tuple[str, str], int] | None) -> np.ndarray:
        out = np.zeros(len(rows))
        role = ctx.current_role
        if not adjacency or role is None or not role.onet_code:
            return out
        source = role.onet_code
        for i, r in enumerate(rows.tolist()):
            code = self.onet_codes[r]
            if code:
                rank = adjacency.get((source, code))
                if rank is not None:
                    out[i] = max(0.05, 1.0 - (rank - 1) / 10.0)
        return out


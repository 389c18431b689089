"""Career paths over one organization's roles: the most reachable next roles, lateral and up.

A target role is scored by blending two things:

- **reference relatedness** of the two roles' occupations, from the occupation graph
  (``inference/paths/graph.py``, learned on O*NET's Related Occupations); another level of the
  same occupation counts as 1.0. Without a graph the Career Changers Matrix stands in
  (rank 1 -> 1.0 ... rank 10 -> 0.1);
- **observed moves**: the share of the source role's past internal moves that went to the
  target. It only counts once the role has ``min_moves`` moves, and then with weight
  ``n / (n + prior_moves)``, so that a handful of moves cannot outweigh the reference data.

Targets are roles at the source's level (lateral) up to ``max_step_up`` levels above (step up).
Every step carries its reasons: shared O*NET skills, the gap (skills needed at a higher level,
job-zone change), the signals behind the relatedness, and how many people made that move and
how it went.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from features.domain import CareerChange, Move, RequirementProfile, Role
from inference.paths.graph import SIGNAL_REASONS, OccupationGraph
from inference.paths.models import (
    CareerPathList,
    CareerPathStep,
    ObservedMoves,
    SkillGap,
    StepReasons,
)


@dataclass(frozen=True)
class PathWeights:
    min_moves: int = 10
    """Observed moves out of a role before they count at all."""
    prior_moves: float = 50.0
    """Weight of observed moves = n / (n + prior_moves)."""
    max_step_up: int = 2


def career_changer_score(source: str | None, target: str | None,
                         ranks: Mapping[tuple[str, str], int]) -> float:
    if not source or not target:
        return 0.0
    if source == target:
        return 1.0
    rank = ranks.get((source, target))
    return 0.0 if rank is None else max(0.1, 1.0 - (rank - 1) / 10.0)


@dataclass
class _Outcomes:
    moves: int = 0
    thrived: int = 0
    rated: int = 0


class CareerLattice:
    """The reachable-next-role graph over one organization's roles (built once, queried often).

    ``requirements`` is accepted for the callers that still pass role requirement profiles; the
    paths do not depend on it (occupation skills come from the graph, the same everywhere).
    """

    def __init__(self, roles: Sequence[Role], moves: Iterable[Move] = (),
                 career_changes: Iterable[CareerChange] = (),
                 requirements: Mapping[str, RequirementProfile] | None = None,
                 weights: PathWeights | None = None, *,
                 graph: OccupationGraph | None = None) -> None:
        del requirements
        self.roles = {r.id: r for r in roles}
        self.by_code: dict[str, list[Role]] = defaultdict(list)
        for r in roles:
            if r.onet_code:
                self.by_code[r.onet_code].append(r)
        self.transitions: dict[str, dict[str, _Outcomes]] = defaultdict(dict)
        self.moves_out: dict[str, int] = defaultdict(int)
        for m in moves:
            outcome = self.transitions[m.from_role_id].setdefault(m.to_role_id, _Outcomes())
            outcome.moves += 1
            self.moves_out[m.from_role_id] += 1
            if m.outcome_rating is not None or m.retained_one_year is not None:
                outcome.rated += 1
                outcome.thrived += int(m.thrived)
        self.ranks = {(c.source, c.target): c.rank for c in career_changes}
        self.graph = graph
        self.weights = weights or PathWeights()

    @property
    def model_version(self) -> str:
        return self.graph.version if self.graph is not None else "career-changers"

    def resolve(self, key: str) -> list[Role]:
        """Roles for a role id, or every role of an O*NET-SOC code (lowest level first)."""
        key = key.strip()
        if key in self.roles:
            return [self.roles[key]]
        return sorted(self.by_code.get(key, []), key=lambda r: (r.level, r.id))

    def relatedness(self, source: str | None, target: str | None) -> float:
        if not source or not target:
            return 0.0
        if source == target:
            return 1.0
        if self.graph is not None:
            return self.graph.relatedness(source, target)
        return career_changer_score(source, target, self.ranks)

    def evidence_weight(self, role_id: str) -> float:
        n = self.moves_out.get(role_id, 0)
        if n < self.weights.min_moves:
            return 0.0
        return n / (n + self.weights.prior_moves)

    def paths(self, role_id: str, limit: int = 10) -> CareerPathList:
        """The ``limit`` most reachable next roles from ``role_id``, best first (ties by id)."""
        source = self.roles.get(role_id)
        if source is None:
            raise KeyError(role_id)
        w = self.weights
        total = self.moves_out.get(role_id, 0)
        alpha = self.evidence_weight(role_id)
        outgoing = self.transitions.get(role_id, {})
        scored: list[tuple[float, Role, float, float]] = []
        for target in self.roles.values():
            step = target.level - source.level
            if target.id == role_id or not 0 <= step <= w.max_step_up:
                continue
            related = self.relatedness(source.onet_code, target.onet_code)
            share = outgoing[target.id].moves / total if target.id in outgoing else 0.0
            score = (1.0 - alpha) * related + alpha * share
            if score > 0.0:
                scored.append((score, target, related, share))
        scored.sort(key=lambda t: (-t[0], t[1].id))
        items = [self._step(source, target, score, related, share, alpha)
                 for score, target, related, share in scored[:limit]]
        return CareerPathList(role_id=source.id, role_title=source.title,
                              onet_code=source.onet_code, level=source.level,
                              model_version=self.model_version, moves_out=total,
                              evidence_weight=round(alpha, 6), items=items)

    def _step(self, source: Role, target: Role, score: float, related: float, share: float,
              alpha: float) -> CareerPathStep:
        up = target.level > source.level
        outcome = self.transitions.get(source.id, {}).get(target.id, _Outcomes())
        observed = ObservedMoves(moves=outcome.moves, share=round(share, 6),
                                 rated=outcome.rated, thrived=outcome.thrived)
        reasons = self._reasons(source, target, up, related, observed, alpha)
        return CareerPathStep(
            role_id=target.id, title=target.title, onet_code=target.onet_code,
            level=target.level, direction="upward" if up else "lateral",
            score=round(score, 6), relatedness=round(related, 6), observed=observed,
            reasons=reasons)

    def _reasons(self, source: Role, target: Role, up: bool, related: float,
                 observed: ObservedMoves, alpha: float) -> StepReasons:
        s_code, t_code = source.onet_code, target.onet_code
        shared: list[str] = []
        gaps: list[SkillGap] = []
        signals: list[str] = []
        zone_from = zone_to = None
        if self.graph is not None and s_code and t_code:
            names, gap_list = self.graph.shared_and_gaps(s_code, t_code)
            shared = names
            gaps = [SkillGap(skill=g.element, from_level=g.source_level, to_level=g.target_level)
                    for g in gap_list]
            if s_code != t_code:
                signals = [SIGNAL_REASONS.get(s, s) for s in self.graph.top_signals(s_code, t_code)]
            zone_from, zone_to = self.graph.job_zone(s_code), self.graph.job_zone(t_code)
        elif s_code and t_code and s_code != t_code and (s_code, t_code) in self.ranks:
            signals = [SIGNAL_REASONS["career_changers"]]
        parts = []
        if up:
            parts.append(f"step up: level {source.level} -> {target.level}")
        else:
            parts.append(f"lateral: same level ({source.level})")
        if s_code and s_code == t_code:
            parts.append("same occupation")
        elif signals:
            parts.append(", ".join(signals))
        if zone_from is not None and zone_to is not None and zone_to != zone_from:
            parts.append(f"job zone {zone_from} -> {zone_to}")
        if shared:
            parts.append("shared skills: " + ", ".join(shared))
        if gaps:
            parts.append("to grow: " + ", ".join(g.skill for g in gaps))
        if observed.moves:
            text = f"{observed.moves} internal move{'s' if observed.moves != 1 else ''}"
            if observed.rated:
                text += f", {observed.thrived} of {observed.rated} thrived"
            if alpha == 0.0:
                text += " (too few moves from this role to weigh)"
            parts.append(text)
        return StepReasons(summary="; ".join(parts), signals=signals, shared_skills=shared,
                           gaps=gaps, job_zone_from=zone_from, job_zone_to=zone_to,
                           relatedness=round(related, 6))

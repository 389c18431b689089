"""Career paths: from a role, the most reachable next roles, lateral and upward (a career lattice).

Three signals, each in [0, 1], are combined with weights:

- **observed moves**: the share of past moves out of the source role that went to the target;
- **O*NET Career Changers** adjacency between the roles' occupations (rank 1 -> 1.0, rank 10
  -> 0.1), and 1.0 for another level of the same occupation;
- **skill overlap** of the two roles' requirement profiles (importance-weighted Jaccard).

Targets are roles at the source level (lateral) up to ``max_step_up`` levels above (upward).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from features.domain import CareerChange, Move, RequirementProfile, Role


@dataclass(frozen=True)
class PathWeights:
    moves: float = 0.5
    career_changers: float = 0.3
    skills: float = 0.2
    max_step_up: int = 2


@dataclass(frozen=True)
class PathStep:
    role_id: str
    onet_code: str | None
    title: str
    score: float
    direction: str
    """"lateral" (same level) or "upward"."""
    observed_share: float
    career_changer: float
    skill_overlap: float

    def as_json(self) -> dict[str, object]:
        return {"role_id": self.role_id, "onet_code": self.onet_code, "title": self.title,
                "score": round(self.score, 6)}


def skill_overlap(a: RequirementProfile | None, b: RequirementProfile | None) -> float:
    """Weighted Jaccard of the importance vectors: sum(min) / sum(max); 0 when either is empty."""
    if a is None or b is None:
        return 0.0
    wa = {r.skill_uri: r.importance for r in a.requirements}
    wb = {r.skill_uri: r.importance for r in b.requirements}
    union = wa.keys() | wb.keys()
    den = sum(max(wa.get(u, 0.0), wb.get(u, 0.0)) for u in union)
    if den == 0.0:
        return 0.0
    return sum(min(wa.get(u, 0.0), wb.get(u, 0.0)) for u in union) / den


def career_changer_score(source: str | None, target: str | None,
                         ranks: Mapping[tuple[str, str], int]) -> float:
    if not source or not target:
        return 0.0
    if source == target:
        return 1.0
    rank = ranks.get((source, target))
    return 0.0 if rank is None else max(0.1, 1.0 - (rank - 1) / 10.0)


class CareerLattice:
    """The reachable-next-role graph over one organization's roles (built once, queried often)."""

    def __init__(self, roles: Sequence[Role], moves: Iterable[Move] = (),
                 career_changes: Iterable[CareerChange] = (),
                 requirements: Mapping[str, RequirementProfile] | None = None,
                 weights: PathWeights | None = None) -> None:
        self.roles = {r.id: r for r in roles}
        self.by_code: dict[str, list[Role]] = defaultdict(list)
        for r in roles:
            if r.onet_code:
                self.by_code[r.onet_code].append(r)
        self.transitions: dict[str, Counter[str]] = defaultdict(Counter)
        for m in moves:
            self.transitions[m.from_role_id][m.to_role_id] += 1
        self.ranks = {(c.source, c.target): c.rank for c in career_changes}
        self.requirements = dict(requirements or {})
        self.weights = weights or PathWeights()

    def resolve(self, key: str) -> list[Role]:
        """Roles for a role id, or every role of an O*NET-SOC code (lowest level first)."""
        key = key.strip()
        if key in self.roles:
            return [self.roles[key]]
        return sorted(self.by_code.get(key, []), key=lambda r: (r.level, r.id))

    def next_roles(self, role_id: str, limit: int = 10) -> list[PathStep]:
        """The ``limit`` most reachable next roles from ``role_id``, best first (ties by id)."""
        source = self.roles.get(role_id)
        if source is None:
            raise KeyError(role_id)
        w = self.weights
        out_moves = self.transitions.get(role_id, Counter())
        total_moves = sum(out_moves.values())
        src_reqs = self.requirements.get(role_id)
        steps: list[PathStep] = []
        for target in self.roles.values():
            step = target.level - source.level
            if target.id == role_id or not 0 <= step <= w.max_step_up:
                continue
            share = out_moves[target.id] / total_moves if total_moves else 0.0
            cc = career_changer_score(source.onet_code, target.onet_code, self.ranks)
            overlap = skill_overlap(src_reqs, self.requirements.get(target.id))
            score = w.moves * share + w.career_changers * cc + w.skills * overlap
            if score <= 0.0:
                continue
            steps.append(PathStep(role_id=target.id, onet_code=target.onet_code,
                                  title=target.title, score=score,
                                  direction="lateral" if step == 0 else "upward",
                                  observed_share=share, career_changer=cc,
                                  skill_overlap=overlap))
        steps.sort(key=lambda s: (-s.score, s.role_id))
        return steps[:limit]


def career_paths(role_id: str, roles: Sequence[Role], moves: Iterable[Move] = (),
                 career_changes: Iterable[CareerChange] = (),
                 requirements: Mapping[str, RequirementProfile] | None = None,
                 limit: int = 10, weights: PathWeights | None = None) -> list[PathStep]:
    """Pure one-shot form of ``CareerLattice(...).next_roles(role_id, limit)``."""
    return CareerLattice(roles, moves, career_changes, requirements, weights).next_roles(
        role_id, limit)

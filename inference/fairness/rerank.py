"""Serving-time fair re-ranking with prefix floor constraints (a feasible DetConstSort variant).

Given a ranked list (rank 1 first) and each candidate's group, `rerank_with_floors` returns a
permutation whose first ``k`` positions satisfy, for every prefix length ``p <= k`` and group i,

    count_i(prefix p) >= min(floor(p * share_i), available_i)

where ``share_i`` is the group's share of the qualified pool (default: of the input list) and
``available_i`` is how many of its members the list holds. Otherwise the input order is kept:
at each position it places the best-ranked remaining candidate whose placement still leaves a
feasible completion, so within a group the input order never changes and with a single group
(or no binding constraint) the output is the input.

Feasibility of a completion is exact: after filling ``p`` positions with counts ``c``, the
remaining floors are unit jobs with deadlines, so (earliest-deadline-first) a completion exists
iff for every ``q`` in ``p..k``: ``sum_i max(0, demand_i(q) - c_i) <= q - p``. Because the
floors of a composition sum to at most ``q``, a feasible order always exists, so the constraints
always hold (unlike the greedy DetGreedy, which can paint itself into a corner). Cost is about
O(k * G^2 * k) array work: well under 10 ms for k = 50 and 20 groups.

With ``ceilings=True`` the re-ranker also prefers, at each position, a candidate whose group is
still within its ceiling ``ceil(p * share_i)`` (DetGreedy's maximum constraint, Geyik et al.
2019): the best-ranked feasible head within its ceiling is placed, and only when no head is
within its ceiling does the best feasible head go over. Floors stay hard; ceilings are soft, so
a feasible order is still always found. Floors alone only lift groups whose expected count in a
prefix reaches one; a group with fewer members than ``1 / share`` per list never has a floor,
and the floors of large groups can push its members down. Ceilings stop a large group from
taking more than its share of the top ``k``, which leaves the slots it would have taken to the
best-ranked members of the smaller groups.

Randomized rounding (``offsets``): deterministic floors ``floor(q * share)`` never give a group
whose expected count in the top ``k`` is under one a single slot, so over many lists such a group
is shown only as often as the model happens to rank it high (on the simulated organization a
3 % race group sits in a list of 40 at 1.2 members: its floor is 0 at every prefix up to 20).
With an offset ``u_g`` in [0, 1) per group, the floor is ``floor(q * share + u_g)``: still
non-decreasing in ``q``, and for ``u_g`` uniform its expectation is exactly ``q * share`` at every
prefix, so *across lists* every group is guaranteed its proportional place (at ``floor_ratio``)
in every prefix, small groups included. `rounding_offsets` draws ``u_g`` from a hash of the
list's key and the group, so the same list is always re-ranked the same way. Rounding up can ask
for more than ``q`` members in a prefix; `rounded_demand` then drops offsets, the largest
group's first (its expected place barely depends on rounding; a small group's rests on it),
until the floors fit, which always ends (with one offset left the floors fit).
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter, deque
from collections.abc import Iterable, Mapping, Sequence

import numpy as np

from inference.fairness.groups import Grouping, group_of

_EPS = 1e-9


def pool_shares(groups: Iterable[str]) -> dict[str, float]:
    """``{group: share}`` of the qualified pool, given its members' groups."""
    counts = Counter(groups)
    total = sum(counts.values())
    return {g: n / total for g, n in counts.items()} if total else {}


def floor_demand(
    shares: Mapping[str, float], available: Mapping[str, int], k: int, groups: Sequence[str],
    offsets: Mapping[str, float] | None = None,
) -> np.ndarray:
    """``demand[i, q-1] = min(floor(q * share_i + u_i), available_i)`` for q = 1..k.

    ``offsets`` holds ``u_i`` in [0, 1) (default 0: plain floors)."""
    q = np.arange(1, k + 1, dtype=float)
    u = offsets or {}
    rows = [
        np.minimum(np.floor(q * shares.get(g, 0.0) + u.get(g, 0.0) + _EPS), available.get(g, 0))
        for g in groups
    ]
    return np.array(rows, dtype=np.int64).reshape(len(groups), k)


def rounding_offsets(list_key: str, groups: Iterable[str]) -> dict[str, float]:
    """``{group: u}``, ``u`` in [0, 1) drawn from a hash of ``(list_key, group)``: the same list
    always gets the same offsets, different lists independent ones."""
    out = {}
    for g in groups:
        digest = hashlib.blake2b(f"{list_key}\x1f{g}".encode(), digest_size=8).digest()
        out[g] = int.from_bytes(digest, "big") / 2.0**64
    return out


def rounded_demand(
    shares: Mapping[str, float], available: Mapping[str, int], k: int, groups: Sequence[str],
    offsets: Mapping[str, float],
) -> tuple[np.ndarray, dict[str, float]]:
    """`floor_demand` with ``offsets``, dropping offsets (the largest group's first) until every
    prefix's floors sum to at most its length, so the floors can always be met: with at most one
    offset left they sum to at most ``floor(q * sum(shares) + u) <= q``. Returns the demand and
    the offsets kept."""
    kept = {g: float(offsets.get(g, 0.0)) for g in groups}
    prefix = np.arange(1, k + 1)
    while True:
        demand = floor_demand(shares, available, k, groups, kept)
        if np.all(demand.sum(axis=0) <= prefix) or not any(kept.values()):
            return demand, kept
        # the largest group first: its rounding up matters least to it, and a small group's
        # place in the top k rests on its offset alone
        largest = max((g for g in kept if kept[g] > 0.0),
                      key=lambda g: (shares.get(g, 0.0), kept[g], g))
        kept[largest] = 0.0


def offset_order(ranked_ids: Sequence[str], scores: Sequence[float], groups: Grouping,
                 offsets: Mapping[str, float]) -> list[str]:
    """``ranked_ids`` re-sorted by standardized score plus the group's offset.

    Scores are standardized within the list (LambdaRank scores are per query) and each group's
    offset (in standard deviations; `inference.fairness.offsets` fits them) is added; ties keep
    the input order. No offsets, or a list of one: the input order."""
    ids = list(ranked_ids)
    if not offsets or len(ids) < 2:
        return ids
    values = np.asarray(scores, dtype=np.float64)
    if values.shape != (len(ids),):
        raise ValueError(f"{values.size} scores for {len(ids)} ids")
    spread = float(values.std())
    z = (values - values.mean()) / spread if spread > 0 else np.zeros_like(values)
    adjusted = [z[j] + offsets.get(group_of(groups, i), 0.0) for j, i in enumerate(ids)]
    return [ids[j] for j in sorted(range(len(ids)), key=lambda j: (-adjusted[j], j))]


def _feasible(demand: np.ndarray, counts: np.ndarray, p: int) -> bool:
    """Can positions p+1..k be filled so every floor holds, given counts after p positions?"""
    need = np.clip(demand[:, p - 1:] - counts[:, None], 0, None).sum(axis=0)
    slack = np.arange(0, demand.shape[1] - p + 1)
    return bool(np.all(need <= slack))


def rerank_with_floors(
    ranked_ids: Sequence[str],
    groups: Grouping,
    *,
    k: int | None = None,
    shares: Mapping[str, float] | None = None,
    ceilings: bool = False,
    floor_ratio: float = 1.0,
    rounding_key: str | None = None,
) -> list[str]:
    """Re-rank ``ranked_ids`` so every prefix of the top ``k`` meets the group floors.

    ``groups`` maps id -> group (missing ids are ``"unknown"``); ``shares`` is the qualified
    pool's composition (default: that of ``ranked_ids``), shares in [0, 1] summing to <= 1.
    ``ceilings`` adds the soft maximum ``ceil(p * share)`` per prefix (module docstring).
    ``floor_ratio`` in (0, 1] scales the floors: ``floor(p * share * floor_ratio)`` guarantees
    every group at least that fraction of its proportional place in every prefix (1.0: exact
    proportional floors; 0.9 matches a target of every exposure ratio >= 0.9).
    ``rounding_key`` (the list's identity) switches on randomized rounding of the floors
    (module docstring): ``floor(p * share * floor_ratio + u)`` with ``u`` from
    `rounding_offsets`; None keeps plain floors.
    Positions after ``k`` keep the remaining candidates in input order. Returns a permutation.
    """
    ids = list(ranked_ids)
    if len(set(ids)) != len(ids):
        raise ValueError("duplicate ids in the ranked list")
    labels = [group_of(groups, i) for i in ids]
    shares = pool_shares(labels) if shares is None else dict(shares)
    if any(not 0.0 <= s <= 1.0 for s in shares.values()) or sum(shares.values()) > 1 + 1e-6:
        raise ValueError("shares must lie in [0, 1] and sum to at most 1")
    n = len(ids)
    k = n if k is None else min(max(k, 0), n)
    if k == 0:
        return ids

    order = list(dict.fromkeys(labels))
    index = {g: j for j, g in enumerate(order)}
    queues: dict[str, deque[int]] = {g: deque() for g in order}
    for pos, g in enumerate(labels):
        queues[g].append(pos)
    if not 0.0 < floor_ratio <= 1.0:
        raise ValueError("floor_ratio must lie in (0, 1]")
    scaled = {g: v * floor_ratio for g, v in shares.items()}
    available = {g: len(q) for g, q in queues.items()}
    if rounding_key is None:
        demand = floor_demand(scaled, available, k, order)
    else:
        demand, _ = rounded_demand(scaled, available, k, order,
                                   rounding_offsets(rounding_key, order))
    cap = {g: shares.get(g, 0.0) for g in order}
    counts = np.zeros(len(order), dtype=np.int64)

    out: list[int] = []
    for p in range(1, k + 1):
        # Heads of the group queues, best-ranked first: the first feasible one is placed
        # (with ceilings: the first feasible one within its ceiling, if there is one).
        # Heads are tried in order and the search stops at the first that decides: the same
        # choice as testing every head, in far fewer feasibility checks.
        heads = sorted((q[0], g) for g, q in queues.items() if q)
        chosen: str | None = None
        for _, g in heads:
            counts[index[g]] += 1
            ok = _feasible(demand, counts, p)
            counts[index[g]] -= 1
            if not ok:
                continue
            if chosen is None:
                chosen = g  # the first feasible head
            if not ceilings or counts[index[g]] + 1 <= math.ceil(p * cap[g] - _EPS):
                chosen = g  # ... or, with ceilings, the first feasible one within its ceiling
                break
        if chosen is None:  # only reachable through float rounding of the shares
            chosen = min(heads, key=lambda h: (_deadline(demand, counts, index[h[1]], p), h[0]))[1]
        counts[index[chosen]] += 1
        out.append(queues[chosen].popleft())
    placed = set(out)
    out.extend(pos for pos in range(n) if pos not in placed)
    return [ids[pos] for pos in out]


def _deadline(demand: np.ndarray, counts: np.ndarray, row: int, p: int) -> int:
    """First position q >= p at which the group's floor exceeds its count (k+1 if none)."""
    short = np.nonzero(demand[row, p - 1:] > counts[row])[0]
    return int(p + short[0]) if short.size else demand.shape[1] + 1


def prefix_violations(
    ranked_ids: Sequence[str], groups: Grouping, shares: Mapping[str, float], k: int | None = None,
    floor_ratio: float = 1.0, rounding_key: str | None = None,
) -> list[tuple[int, str, int, int]]:
    """``(prefix length, group, count, required)`` for every floor a ranking misses.

    ``required = min(floor(p * share * floor_ratio [+ u]), available in the list)``, with the
    offsets ``u`` of ``rounding_key`` as `rerank_with_floors` uses them; an empty list means
    compliant.
    """
    labels = [group_of(groups, i) for i in ranked_ids]
    present = sorted(set(labels))
    limit = len(labels) if k is None else min(k, len(labels))
    if limit == 0 or not present:
        return []
    scaled = {g: v * floor_ratio for g, v in shares.items()}
    available = Counter(labels)
    if rounding_key is None:
        demand = floor_demand(scaled, available, limit, present)
    else:
        demand, _ = rounded_demand(scaled, available, limit, present,
                                   rounding_offsets(rounding_key, present))
    seen: Counter[str] = Counter()
    out = []
    for p in range(1, limit + 1):
        seen[labels[p - 1]] += 1
        for row, g in enumerate(present):
            need = int(demand[row, p - 1])
            if seen[g] < need:
                out.append((p, g, seen[g], need))
    return out

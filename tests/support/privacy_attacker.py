"""An attacker who reads candidate lists and tries to tell each candidate's group (sex).

It knows what the documentation says: re-ranking lifts one group (``lifted``) and pushes the
others down; it does not know anyone's group. Every attack gets a ``fetch(role_id, limit)``
that returns a candidate-list response as JSON, and guesses a group for each candidate of the
top ``TOP`` of every list; with no signal it falls back to the pool's largest group, as shown
by the response, or ``fallback``. The strategies, one per response shape:

- `rank_difference`: a pre-re-ranking position next to the shown one (``model_rank``...): moved
  up = lifted, moved down = not lifted;
- `score_inversion`: a model score out of order with the shown rank: someone above a
  higher-scored candidate was lifted, someone below a lower-scored one was pushed down;
- `limit_difference`: step ``limit`` from k-1 to k and read which group's figure rises: that
  is candidate k's group (``limit=1`` alone gives the top candidate's);
- `repeat_variation`: ask for the same list several times; whoever moves between answers was
  placed by the re-ranking (a randomized one moves the lifted group);
- `skill_proxy`: score candidates by their shown skills and read the inversions against the
  shown order, as `score_inversion` does with the model score.

`accuracy` scores guesses against the truth the test holds.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

Fetch = Callable[[str, int], dict[str, Any]]
Guesses = dict[tuple[str, str], str]
"""(role id, employee id) -> guessed group."""

TOP = 20
OTHER = "not lifted"


def _top(fetch: Fetch, role: str) -> list[dict[str, Any]]:
    return list(fetch(role, TOP)["items"])


def _pool_majority(body: Mapping[str, Any], fallback: str) -> str:
    figures = body.get("fairness") or {}
    shares = [(g.get("pool_share") or 0.0, g["group"]) for g in figures.get("groups", [])]
    return max(shares)[1] if shares else fallback


def _counts(body: Mapping[str, Any]) -> dict[str, float]:
    """Each group's count in the list as the figures let one compute it."""
    figures = body.get("fairness") or {}
    out: dict[str, float] = {}
    for g in figures.get("groups", []):
        if g.get("list_count") is not None:
            out[g["group"]] = float(g["list_count"])
        elif g.get("list_share") is not None:
            out[g["group"]] = g["list_share"] * figures.get("list_size", 0)
        elif g.get("top_share") is not None:
            out[g["group"]] = g["top_share"] * figures.get("prefix", 0)
    return out


def _side(lifted: bool | None, lifted_group: str, default: str) -> str:
    if lifted is None:
        return default
    return lifted_group if lifted else OTHER


def rank_difference(fetch: Fetch, roles: Iterable[str], lifted: str,
                    fallback: str) -> Guesses:
    guesses: Guesses = {}
    for role in roles:
        body = fetch(role, TOP)
        default = _pool_majority(body, fallback)
        for item in body["items"]:
            before = next((v for k, v in item.items()
                           if "rank" in k and k != "rank" and isinstance(v, int)), None)
            moved = None if before is None or before == item["rank"] else before > item["rank"]
            guesses[(role, item["employee_id"])] = _side(moved, lifted, default)
    return guesses


def _inversions(items: list[dict[str, Any]], value: Callable[[dict[str, Any]], float | None],
                lifted: str, default: str, role: str) -> Guesses:
    guesses: Guesses = {}
    values = [value(i) for i in items]
    for n, item in enumerate(items):
        mine = values[n]
        side: bool | None = None
        if mine is not None:
            up = sum(1 for v in values[n + 1:] if v is not None and v > mine)
            down = sum(1 for v in values[:n] if v is not None and v < mine)
            side = None if up == down else up > down
        guesses[(role, item["employee_id"])] = _side(side, lifted, default)
    return guesses


def score_inversion(fetch: Fetch, roles: Iterable[str], lifted: str,
                    fallback: str) -> Guesses:
    guesses: Guesses = {}
    for role in roles:
        body = fetch(role, TOP)
        guesses.update(_inversions(body["items"], lambda i: i.get("score"), lifted,
                                   _pool_majority(body, fallback), role))
    return guesses


def skill_fit(item: Mapping[str, Any]) -> float:
    """A recruiter's own fit score from the shown skills: importance-weighted coverage."""
    have = sum(s["importance"] * min(1.0, s["proficiency"] / max(s["required_level"], 1e-6))
               for s in item.get("matched_skills", []))
    lack = sum(s["importance"] * (1.0 - s["current_level"] / max(s["required_level"], 1e-6))
               for s in item.get("missing_skills", []))
    return float(have - lack)


def skill_proxy(fetch: Fetch, roles: Iterable[str], lifted: str, fallback: str) -> Guesses:
    guesses: Guesses = {}
    for role in roles:
        body = fetch(role, TOP)
        guesses.update(_inversions(body["items"], skill_fit, lifted,
                                   _pool_majority(body, fallback), role))
    return guesses


def limit_difference(fetch: Fetch, roles: Iterable[str], lifted: str,
                     fallback: str) -> Guesses:
    guesses: Guesses = {}
    for role in roles:
        full = fetch(role, TOP)
        default = _pool_majority(full, fallback)
        previous: dict[str, float] = {}
        for k in range(1, len(full["items"]) + 1):
            body = fetch(role, k)
            counts = _counts(body)
            rises = {g: c - previous.get(g, 0.0) for g, c in counts.items()}
            best = max(rises.values(), default=0.0)
            risen = [g for g, r in rises.items() if r == best and r > 0]
            guess = risen[0] if len(risen) == 1 else default
            guesses[(role, body["items"][k - 1]["employee_id"])] = guess
            previous = counts
    return guesses


def repeat_variation(fetch: Fetch, roles: Iterable[str], lifted: str, fallback: str,
                     repeats: int = 5) -> Guesses:
    guesses: Guesses = {}
    for role in roles:
        answers = [fetch(role, TOP) for _ in range(repeats)]
        default = _pool_majority(answers[0], fallback)
        positions: dict[str, set[int]] = {}
        for body in answers:
            for item in body["items"]:
                positions.setdefault(item["employee_id"], set()).add(item["rank"])
        for item in answers[0]["items"]:
            varies = len(positions[item["employee_id"]]) > 1
            guesses[(role, item["employee_id"])] = lifted if varies else default
    return guesses


ATTACKS: dict[str, Callable[[Fetch, Iterable[str], str, str], Guesses]] = {
    "rank_difference": rank_difference,
    "score_inversion": score_inversion,
    "limit_difference": limit_difference,
    "repeat_variation": repeat_variation,
    "skill_proxy": skill_proxy,
}


def accuracy(guesses: Guesses, truth: Mapping[str, str], lifted: str) -> float:
    """Share of candidates whose group is guessed right ("not lifted" is right for anyone not
    in the lifted group)."""
    if not guesses:
        return 0.0
    right = sum(1 for (_, person), guess in guesses.items()
                if guess == truth[person] or (guess == OTHER and truth[person] != lifted))
    return right / len(guesses)


def chance(guesses: Guesses, truth: Mapping[str, str]) -> float:
    """The best blind guess: the share of the most common group among the same candidates."""
    groups = [truth[person] for (_, person) in guesses]
    return max(groups.count(g) for g in set(groups)) / len(groups) if groups else 0.0

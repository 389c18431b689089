"""The simulated organization: determinism, coverage, structure, adjacency, outcomes, bias.

The bias is measured, not assumed: a conditional logit of who was chosen among each opening's
applicants (plus the external-hire option) on true fit, group and part-time recovers the
configured penalties, and with both strengths at zero the group gap disappears.
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date
from pathlib import Path

import numpy as np
import pytest

from features.domain import (
    Employee,
    EventKind,
    EvidenceKind,
    OpportunityKind,
    OpportunityStatus,
    ProtectedAttributes,
    Sex,
)
from features.taxonomy import ReferenceData
from tests.support.params_factory import repo_params, simulation_params
from training.simulation import SimulationResult, load_params, simulate
from training.simulation.postings import COMMITMENT

pytestmark = pytest.mark.data

N = 1500


@pytest.fixture(scope="module")
def result(reference_data: ReferenceData) -> SimulationResult:
    """The shipped simulation with sourcing bias off (one test switches it on)."""
    return simulate(reference_data, simulation_params(
        employees=N, seed=1, sourcing_bias_strength=0.0, sourcing_proxy_strength=0.0))


@pytest.fixture(scope="module")
def unbiased(reference_data: ReferenceData) -> SimulationResult:
    params = simulation_params(employees=N, seed=1, bias_strength=0.0, proxy_strength=0.0,
                               sourcing_bias_strength=0.0, sourcing_proxy_strength=0.0)
    return simulate(reference_data, params)


# --------------------------------------------------------------------------- helpers


def conditional_logit(sets: list[tuple[np.ndarray, int]],
                      iterations: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """McFadden's conditional logit by Newton-Raphson: coefficients and standard errors."""
    beta = np.zeros(sets[0][0].shape[1])
    hessian = np.eye(len(beta))
    for _ in range(iterations):
        gradient = np.zeros_like(beta)
        hessian = np.zeros((len(beta), len(beta)))
        for x, chosen in sets:
            utility = x @ beta
            p = np.exp(utility - utility.max())
            p /= p.sum()
            mean = p @ x
            gradient += x[chosen] - mean
            hessian -= (x * p[:, None]).T @ x - np.outer(mean, mean)
        step = np.linalg.solve(hessian, gradient)
        beta -= step
        if np.abs(step).max() < 1e-9:
            break
    return beta, np.sqrt(np.diag(np.linalg.inv(-hessian)))


def choice_sets(result: SimulationResult) -> list[tuple[np.ndarray, int]]:
    """Per historical opening: rows [fit, in group, part-time, outside option], the chosen row."""
    org = result.organization
    group = {p.employee_id: p.sex is Sex.FEMALE for p in org.protected_attributes}
    part_time = {e.id: e.part_time for e in org.employees}
    by_opening = defaultdict(list)
    for application in result.applications:
        by_opening[application.opportunity_id].append(application)
    sets = []
    for applications in by_opening.values():
        rows, chosen = [[0.0, 0.0, 0.0, 1.0]], 0
        for k, application in enumerate(applications, start=1):
            employee = result.people[application.person].id
            rows.append([application.fit, float(group[employee]),
                         float(part_time[employee]), 0.0])
            chosen = k if application.chosen else chosen
        sets.append((np.array(rows), chosen))
    return sets


def stratified_gap(result: SimulationResult, bins: int = 5) -> float:
    """Selection rate of the group minus everyone else's, averaged over fit quintiles."""
    group = {p.employee_id: p.sex is Sex.FEMALE for p in result.organization.protected_attributes}
    fits = np.array([a.fit for a in result.applications])
    chosen = np.array([a.chosen for a in result.applications])
    in_group = np.array([group[result.people[a.person].id] for a in result.applications])
    edges = np.quantile(fits, np.linspace(0, 1, bins + 1)[1:-1])
    strata = np.searchsorted(edges, fits)
    gaps = [chosen[(strata == s) & in_group].mean() - chosen[(strata == s) & ~in_group].mean()
            for s in range(bins)]
    return float(np.mean(gaps))


# --------------------------------------------------------------------------- determinism


def test_same_seed_same_organization_and_other_seed_differs(
        reference_data: ReferenceData) -> None:
    params = simulation_params(employees=250, seed=5)
    first = simulate(reference_data, params).organization
    second = simulate(reference_data, params).organization
    assert first == second
    other = simulate(reference_data, params.model_copy(update={"seed": 6})).organization
    assert other.employees != first.employees
    assert other.evidence != first.evidence
    assert params.version() != params.model_copy(update={"seed": 6}).version()


def test_params_come_from_params_yaml_and_overrides_win() -> None:
    from features.settings import REPO_ROOT

    params = load_params(REPO_ROOT / "params.yaml", employees=321, seed=None)
    assert params.employees == 321
    assert params.bias_group is Sex.FEMALE
    assert params.seed == repo_params().simulate.seed
    with pytest.raises(ValueError):
        load_params(REPO_ROOT / "params.yaml", employees=3)  # under the minimum


# --------------------------------------------------------------------------- structure


def test_one_role_per_onet_occupation_with_tasks(result: SimulationResult,
                                                reference_data: ReferenceData) -> None:
    with_tasks = {t.code for t in reference_data.onet_tasks}
    roles = result.organization.roles
    assert {r.onet_code for r in roles} == with_tasks
    assert len(roles) == len(with_tasks) == 923
    zones = {o.code: o.job_zone for o in reference_data.onet_occupations}
    assert all(r.level == (zones[r.onet_code] or 3) for r in roles if r.onet_code)
    assert len({r.job_family for r in roles}) >= 20
    description = next(r.description for r in roles if r.onet_code == "15-1252.00")
    assert "What you will do:" in description and description.count("\n- ") >= 5
    assert "Tools and technologies:" in description


def test_protected_attributes_live_only_in_their_own_rows(result: SimulationResult) -> None:
    org = result.organization
    assert not {"sex", "race_ethnicity", "age_band"} & set(Employee.model_fields)
    assert {p.employee_id for p in org.protected_attributes} == {e.id for e in org.employees}
    assert all(isinstance(p, ProtectedAttributes) for p in org.protected_attributes)
    assert any(p.sex is Sex.UNKNOWN for p in org.protected_attributes)
    assert any(p.race_ethnicity == "unknown" for p in org.protected_attributes)
    assert any(p.age_band == "unknown" for p in org.protected_attributes)
    part_time = {e.id: e.part_time for e in org.employees}
    women = [part_time[p.employee_id] for p in org.protected_attributes if p.sex is Sex.FEMALE]
    men = [part_time[p.employee_id] for p in org.protected_attributes if p.sex is Sex.MALE]
    assert np.mean(women) > 2 * np.mean(men)  # the proxy correlates with the group


def test_employees_org_chart_and_flags(result: SimulationResult) -> None:
    employees = {e.id: e for e in result.organization.employees}
    assert len(employees) == N
    heads = [e for e in employees.values() if e.manager_id is None]
    assert len(heads) == len(result.organization.departments)
    for employee in employees.values():
        if employee.manager_id is not None:
            manager = employees[employee.manager_id]
            assert manager.department_id == employee.department_id
        seen, current = set(), employee
        while current.manager_id is not None:  # no cycles
            assert current.id not in seen
            seen.add(current.id)
            current = employees[current.manager_id]
        assert employee.hired_on <= employee.role_since <= date(2026, 11, 1)
    assert 0.62 < np.mean([e.discoverable for e in employees.values()]) < 0.78
    assert any(e.is_recruiter for e in employees.values())
    assert 3 <= len({e.location for e in employees.values()}) <= 10
    assert np.mean([bool(e.aspirations) for e in employees.values()]) == 1.0


def test_every_opportunity_kind_is_open_and_history_is_filled(result: SimulationResult) -> None:
    org = result.organization
    employees = {e.id: e for e in org.employees}
    managers = {e.manager_id for e in org.employees}
    open_kinds = {o.kind for o in org.opportunities if o.status is OpportunityStatus.OPEN}
    assert open_kinds == set(OpportunityKind)
    for opportunity in org.opportunities:
        assert opportunity.owner_id in employees
        owner = employees[opportunity.owner_id]
        assert (owner.is_recruiter or owner.id in managers
                or opportunity.mentor_id == owner.id)
        if opportunity.kind is OpportunityKind.MENTORSHIP:
            assert employees[opportunity.mentor_id or ""].level >= 4
        if opportunity.kind is OpportunityKind.OPEN_ROLE:
            assert opportunity.role_id is not None
        low, high = (2.0, 8.0) if opportunity.kind is OpportunityKind.GIG \
            else COMMITMENT[opportunity.kind]  # a gig: the hours its text states
        assert opportunity.hours_per_week is not None
        assert low <= opportunity.hours_per_week <= high, opportunity.id
    by_id = {o.id: o for o in org.opportunities}
    backed = [m for m in org.moves if m.opportunity_id]
    assert len(backed) > 200
    for move in backed:
        filled = by_id[move.opportunity_id or ""]
        assert filled.status is OpportunityStatus.FILLED and filled.posted_on < move.moved_on
        assert filled.role_id == move.to_role_id


def test_events_rank_winners_above_applicants(result: SimulationResult) -> None:
    events = result.organization.events
    accepted = {(e.employee_id, e.opportunity_id) for e in events
                if e.kind is EventKind.ACCEPTED_MOVE}
    applied = {(e.employee_id, e.opportunity_id) for e in events
               if e.kind is EventKind.APPLICATION}
    chosen = {(result.people[a.person].id, a.opportunity_id)
              for a in result.applications if a.chosen}
    assert accepted == chosen and accepted <= applied
    assert len(applied) > 3 * len(accepted)
    assert any(e.kind is EventKind.IMPRESSION for e in events)
    assert any(e.kind is EventKind.CLICK for e in events)
    moved = {(m.employee_id, m.opportunity_id) for m in result.organization.moves}
    backed = {pair for pair in moved if pair[1]}
    assert backed <= accepted


def test_evidence_mentions_strengths_and_growth_areas(result: SimulationResult) -> None:
    org = result.organization
    employees = {e.id: e for e in org.employees}
    courses = {c.id for c in org.courses}
    kinds = defaultdict(list)
    for item in org.evidence:
        kinds[item.kind].append(item)
    assert set(kinds) == set(EvidenceKind)
    reviews = kinds[EvidenceKind.PERFORMANCE_REVIEW]
    growth = ("needs to improve", "growth area", "should develop more confidence",
              "struggles to", "needs more practice", "lacks experience", "should work on",
              "limited familiarity")
    assert np.mean([any(g in r.text for g in growth) for r in reviews]) > 0.95
    assert all(r.rating is not None and 1 <= r.rating <= 5 for r in reviews)
    years = {r.occurred_on.year for r in reviews}
    assert len(years) >= 5
    for item in kinds[EvidenceKind.MANAGER_ENDORSEMENT]:
        assert item.skill_uri and item.author_id == employees[item.employee_id].manager_id
    assert all(i.course_id in courses for i in kinds[EvidenceKind.COURSE_COMPLETION])
    assert all(i.skill_uri for i in kinds[EvidenceKind.SELF_DECLARED])
    assert all(c.hours > 0 and c.skill_uris for c in org.courses)


# --------------------------------------------------------------------------- dynamics


def test_evidence_of_a_held_skill_is_dated_after_it_was_picked_up(
        result: SimulationResult) -> None:
    # A self-declaration, endorsement or course dated before the skill was held would show a
    # past decision the skills of a role the person only went on to take (a leak of the move
    # into the ranker's training rows, docs/ranking.md "What a past decision could know").
    as_of = max(ev.occurred_on for ev in result.organization.evidence).toordinal()
    since = {p.id: {result.skill_uris[int(i)]: int(d) for i, d in
                    zip(p.skills.idx.tolist(), p.skills.since.tolist(), strict=True)
                    if d <= as_of}  # the truth also holds skills picked up after today
             for p in result.people}
    courses = {c.id: c.skill_uris for c in result.organization.courses}
    checked = early = 0
    for ev in result.organization.evidence:
        if ev.kind is EvidenceKind.COURSE_COMPLETION:
            uris = courses.get(ev.course_id or "", ())
        elif ev.kind in (EvidenceKind.SELF_DECLARED, EvidenceKind.MANAGER_ENDORSEMENT):
            uris = (ev.skill_uri,) if ev.skill_uri else ()
        else:
            continue
        held = [since[ev.employee_id][u] for u in uris if u in since[ev.employee_id]]
        if not held:
            continue  # an over-claim, or a course's other skills
        checked += 1
        early += ev.occurred_on.toordinal() < min(held)
    assert checked > 500
    assert early == 0


def test_moves_follow_career_changer_adjacency_more_than_chance(
        result: SimulationResult, reference_data: ReferenceData) -> None:
    edges = {(c.source, c.target) for c in reference_data.career_changers}
    codes = {r.id: r.onet_code for r in result.organization.roles}
    moves = [m for m in result.organization.moves if m.opportunity_id]
    adjacent = np.mean([(codes[m.from_role_id], codes[m.to_role_id]) in edges for m in moves])
    chance = len(edges) / (len(codes) * (len(codes) - 1))
    assert adjacent > 20 * chance
    assert adjacent > 0.2


def test_outcomes_depend_on_fit(result: SimulationResult) -> None:
    fit = {(result.people[a.person].id, a.opportunity_id): a.fit
           for a in result.applications if a.chosen}
    rated = [(fit[(m.employee_id, m.opportunity_id or "")], m.outcome_rating,
              m.retained_one_year)
             for m in result.organization.moves if m.outcome_rating is not None]
    fits = np.array([r[0] for r in rated])
    ratings = np.array([r[1] for r in rated], dtype=float)
    assert np.corrcoef(fits, ratings)[0, 1] > 0.3
    low, high = fits < np.quantile(fits, 1 / 3), fits > np.quantile(fits, 2 / 3)
    retained = np.array([bool(r[2]) for r in rated])
    assert retained[high].mean() > retained[low].mean()
    recent = [m for m in result.organization.moves
              if m.opportunity_id and m.moved_on > date(2025, 11, 1)]
    assert recent and all(m.outcome_rating is None for m in recent)


def test_bias_is_injected_with_the_configured_size(result: SimulationResult) -> None:
    params = repo_params().simulate
    beta, se = conditional_logit(choice_sets(result))
    fit, group, part_time, _outside = beta
    assert fit > 0
    assert group < 0 and abs(group + params.bias_strength) < 3 * se[1]
    assert part_time < 0 and abs(part_time + params.proxy_strength) < 3 * se[2]
    assert stratified_gap(result) < -0.02


def test_without_bias_the_gap_disappears(unbiased: SimulationResult) -> None:
    beta, se = conditional_logit(choice_sets(unbiased))
    assert abs(beta[1]) < 3 * se[1]
    assert abs(beta[2]) < 3 * se[2]
    assert abs(stratified_gap(unbiased)) < 0.03


def test_truth_artifact_round_trips(result: SimulationResult, tmp_path: Path) -> None:
    import gzip

    path = tmp_path / "truth.json.gz"
    result.write_truth(path)
    with gzip.open(path, "rt") as handle:
        truth = json.load(handle)
    assert set(truth["employees"]) == {e.id for e in result.organization.employees}
    some = next(iter(truth["employees"].values()))
    assert len(some["skill"]) == len(some["proficiency"]) == len(some["since"]) > 0
    assert len(truth["applications"]) == len(result.applications)


# --------------------------------------------------------------------------- store and CLI


@pytest.mark.store
def test_replace_organization_round_trips_and_is_all_or_nothing(
        reference_data: ReferenceData, store_url: str) -> None:
    from features.store import Store

    org = simulate(reference_data, simulation_params(employees=120, seed=3)).organization
    store = Store(store_url)
    try:
        store.create_schema()
        counts = store.replace_organization(org, version="v1")
        assert counts["evidence"] == len(org.evidence) and counts["events"] == len(org.events)
        assert store.employees() == org.employees
        assert store.moves() == org.moves
        assert store.evidence() == sorted(org.evidence, key=lambda e: e.id)
        assert store.opportunities() == sorted(org.opportunities, key=lambda o: o.id)
        broken = org.model_copy(update={"events": [*org.events, org.events[0]]})
        with pytest.raises(Exception):  # noqa: B017 - any driver error (duplicate key)
            store.replace_organization(broken, version="v2")
        assert store.dataset_version("organization") == "v1"
        assert store.employees() == org.employees
        assert len(store.events()) == len(org.events)
    finally:
        store.dispose()


def test_cli_simulate_writes_store_summary_and_truth(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shared_data_dir: Path) -> None:
    from features.settings import get_settings
    from features.store import Store
    from waypoint.cli import main

    url = f"sqlite:///{tmp_path / 'sim.db'}"
    monkeypatch.setenv("WAYPOINT_DATABASE_URL", url)
    monkeypatch.setenv("WAYPOINT_ARTIFACT_DIR", str(tmp_path))
    monkeypatch.setenv("WAYPOINT_DATA_DIR", str(shared_data_dir))
    get_settings.cache_clear()
    try:
        assert main(["simulate", "--employees", "150", "--seed", "4", "--no-progress"]) == 0
    finally:
        get_settings.cache_clear()
    summary = json.loads((tmp_path / "simulation_summary.json").read_text())
    assert summary["counts"]["employees"] == 150 and summary["onet_roles"] == 923
    assert summary["crosswalk"]["unmapped"] == 0
    assert (tmp_path / "simulation_truth.json.gz").is_file()
    store = Store(url)
    try:
        assert store.counts().employees == 150
        assert store.dataset_version("organization") == summary["version"]
    finally:
        store.dispose()


def _applicant_shares(sim: SimulationResult) -> tuple[float, float]:
    """Share of part-timers and of the bias group among all applications."""
    people = [sim.people[a.person] for a in sim.applications]
    return (float(np.mean([p.part_time for p in people])),
            float(np.mean([p.in_bias_group for p in people])))


def test_sourcing_bias_puts_part_timers_and_the_group_forward_less(
        result: SimulationResult, reference_data: ReferenceData) -> None:
    biased = simulate(reference_data, simulation_params(
        employees=N, seed=1, sourcing_bias_strength=0.3, sourcing_proxy_strength=1.5))
    part_time_before, group_before = _applicant_shares(result)
    part_time_after, group_after = _applicant_shares(biased)
    # a drawn part-timer is kept with probability exp(-1.5) = 0.22 (and exp(-1.8) in the group)
    assert part_time_after < 0.5 * part_time_before
    assert group_after < group_before - 0.03
    # the workforce itself is the same: only who is put forward changes
    assert (np.mean([p.part_time for p in biased.people])
            == pytest.approx(np.mean([p.part_time for p in result.people]), abs=0.02))

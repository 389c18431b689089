"""Time from a write to its effect, across two API workers over one store.

Starts two app instances (A and B: each its own serving model, rate limiter and skills engine,
as two uvicorn workers are) over a copy of the demo store (``models/waypoint.db``, so the demo is
left as it was) and the demo's MLflow champion, with the shipped ``live_refresh_seconds``. Then,
``--trials`` times each:

- *post*: the demo manager posts a project whose description names (by their labels) three
  skills the demo employee holds, with no explicit skill, through A; the time until it is in the
  employee's list served by B (polled every ``--poll`` seconds), and by A itself;
- *dismiss*: the employee dismisses the posted project through A; the time until B's list
  no longer has it;
- *lacked skill / plan*: the employee posts a self-description naming (by its label) a gap of
  their development plan toward a role they are recommended, a skill their profile lacks,
  through A; the time until B's ``GET /v1/employees/{id}/skills`` lists it, and until that
  plan, served by B, has changed (the gap closed or narrowed, or readiness up), both from the
  write;
- *opening*: the manager posts an open-role opening through A and the employee applies to it
  through A; the time until B shows the manager the application
  (``GET /v1/opportunities/{id}/applicants``) and ranked candidates (``.../candidates``).

Prints one row per measure (median and max over the trials) and the stated bound
(``live_refresh_seconds`` plus the catalog rebuild). Run after ``make demo`` (or ``dvc repro
promote``) on an otherwise idle machine::

    WAYPOINT_DEMO_MODE=true .venv/bin/python benchmarks/bench_live.py --trials 5

``--bundle models/bundle`` serves that bundle (each worker its own `Recommender` over it, as
`bench_recommend.py --recommender` does) instead of the registry's champion.
"""

from __future__ import annotations

import argparse
import math
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy.engine import make_url

from api.app import create_app
from api.security import UserRole, demo_user_for
from features.settings import Settings
from features.store import Store
from inference.artifacts.bundle import load_bundle
from inference.ranking.recommender import Recommender
from inference.serving.model import ServingModel
from inference.skills.artifacts import load_engine


def sign_in(client: TestClient, user: str, role: str) -> dict[str, str]:
    response = client.post("/v1/auth/token", data={"grant_type": "password", "username": user,
                                                   "password": "demo", "scope": role})
    response.raise_for_status()
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


TIMEOUT_S = 30.0
"""A measure that has not taken effect by then counts as missed (listed under ``missed``)."""


def until(check: Callable[[], bool], poll: float) -> float:
    """Seconds until ``check()`` holds (polled every ``poll`` s); ``inf`` after `TIMEOUT_S`."""
    started = time.monotonic()
    while not check():
        if time.monotonic() - started > TIMEOUT_S:
            return math.inf
        time.sleep(poll)
    return time.monotonic() - started


def listed(client: TestClient, headers: dict[str, str], employee_id: str) -> list[str]:
    response = client.get(f"/v1/employees/{employee_id}/recommendations",
                          params={"limit": 100}, headers=headers)
    response.raise_for_status()
    return [i["opportunity_id"] for i in response.json()["items"]]


def plan_effect(a: TestClient, b: TestClient, me_a: dict[str, str], me_b: dict[str, str],
                employee: str, trial: int, poll: float) -> tuple[float, float] | None:
    """The employee describes doing one gap (a skill they lack) of their development plan
    toward a recommended role, through A. Seconds until B's ``GET /skills`` lists that skill,
    and until B's plan has changed (the gap closed or narrowed, or readiness up); None when no
    recommended role has a gap."""
    items = b.get(f"/v1/employees/{employee}/recommendations",
                  params={"limit": 50, "kinds": "open_role"}, headers=me_b).json()["items"]
    for item in items:
        role_id = item.get("role_id")
        if not role_id:
            continue
        before = plan_of(b, me_b, employee, role_id)
        held = {x["uri"] for x in b.get(f"/v1/employees/{employee}/skills",
                                        headers=me_b).json()["skills"]}
        lacking = [g for g in before["gaps"] if g["uri"] not in held]
        if not lacking:
            continue
        gap = lacking[trial % len(lacking)]
        a.post(f"/v1/employees/{employee}/evidence", headers={
            **me_a, "Idempotency-Key": f"bench-plan-{trial}-{time.time_ns()}"},
            json={"kind": "self_description",
                  "text": f"For two years I have been doing {gap['label']} every week."}
        ).raise_for_status()

        def listed_on_b(gap: dict[str, Any] = gap) -> bool:
            return gap["uri"] in {x["uri"] for x in b.get(
                f"/v1/employees/{employee}/skills", headers=me_b).json()["skills"]}

        def changed(role_id: str = role_id, gap: dict[str, Any] = gap,
                    before: dict[str, Any] = before) -> bool:
            after = plan_of(b, me_b, employee, role_id)
            level = {g["uri"]: g["current_level"] for g in after["gaps"]}
            return (gap["uri"] not in level or level[gap["uri"]] > gap["current_level"]
                    or after["readiness"] > before["readiness"])

        started = time.monotonic()
        skills_s = until(listed_on_b, poll)
        plan_s = until(changed, poll)
        return skills_s, (time.monotonic() - started) if math.isfinite(plan_s) else plan_s
    return None


def plan_of(client: TestClient, headers: dict[str, str], employee: str,
            role_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/employees/{employee}/development-plan",
                          params={"target_role_id": role_id}, headers=headers)
    response.raise_for_status()
    body: dict[str, Any] = response.json()
    return body


def opening_effect(a: TestClient, b: TestClient, boss: dict[str, str], me_a: dict[str, str],
                   boss_b: dict[str, str], employee: str, person: Any, trial: int,
                   poll: float) -> float:
    """Seconds until the manager sees, on B, the employee's application to an opening the
    manager posted on A, and ranked candidates for it."""
    made = a.post("/v1/opportunities", headers={
        **boss, "Idempotency-Key": f"bench-opening-{trial}-{time.time_ns()}"}, json={
        "kind": "open_role", "title": f"Live benchmark opening {trial}",
        "description": "We need someone who can analyse data, write reports and present "
                       "results to clients.",
        "location": person.location, "level": person.level})
    made.raise_for_status()
    oid = made.json()["id"]
    a.post("/v1/events", headers={**me_a, "Idempotency-Key": f"bench-apply-{oid}"},
           json={"kind": "application", "opportunity_id": oid}).raise_for_status()

    def seen() -> bool:
        applied = b.get(f"/v1/opportunities/{oid}/applicants", headers=boss_b)
        ranked = b.get(f"/v1/opportunities/{oid}/candidates", headers=boss_b)
        return (applied.status_code == 200 and ranked.status_code == 200
                and employee in {x["employee_id"] for x in applied.json()["items"]}
                and bool(ranked.json()["items"]))

    return until(seen, poll)


def bundle_loader(path: Path, store: Store, settings: Settings) -> Callable[[], Recommender]:
    def load() -> Recommender:
        return Recommender(load_bundle(path), store, live_refresh_s=settings.live_refresh_seconds)

    return load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--poll", type=float, default=0.05)
    parser.add_argument("--bundle", type=Path, default=None)
    parser.add_argument("--engine", default=None,
                        help="skills-engine variant for the writing worker (default: what "
                             "serving loads; on a demo without a trained label cache that "
                             "builds the baseline cache first, which takes minutes, once)")
    args = parser.parse_args()
    base = Settings(demo_mode=True)
    source = make_url(base.database_url).database
    assert source, "a SQLite demo store is expected"
    with tempfile.TemporaryDirectory() as tmp:
        copy = Path(tmp) / "waypoint.db"
        shutil.copy(source, copy)
        # polling every --poll seconds would trip the per-user rate limit (120 a minute):
        # the benchmark measures time to effect, not the limiter
        settings = base.model_copy(update={"database_url": f"sqlite:///{copy}",
                                           "rate_limit_per_minute": 1_000_000})
        store = Store(settings.database_url)
        employee = demo_user_for(store, UserRole.EMPLOYEE)
        manager = demo_user_for(store, UserRole.MANAGER)
        assert employee and manager
        app_a, app_b = create_app(settings), create_app(settings)
        with TestClient(app_a) as a, TestClient(app_b) as b:
            for app in (app_a, app_b):
                if args.bundle is not None:
                    app.state.serving_model = ServingModel(
                        bundle_loader(args.bundle, app.state.store, settings))
                    app.state.serving_model.reload()
                assert app.state.serving_model.wait(600)
                assert app.state.serving_model.current is not None, \
                    app.state.serving_model.last_error
            if args.engine is not None:
                app_a.state.skills_engine = load_engine(settings, args.engine)
            for client in (a, b):  # the skills engine loads in the background at start-up
                started = time.monotonic()
                while client.get("/readyz").status_code != 200:
                    assert time.monotonic() - started < 600, client.get("/readyz").text
                    time.sleep(0.5)
            rec = app_a.state.serving_model.current
            person = rec.employees[employee]
            held = sorted(rec.skill_entries(employee).values(), key=lambda e: -e.proficiency)
            labels = store.skill_labels(e.skill_uri for e in held)
            found_named: list[int] = []
            boss, me_a, me_b = (sign_in(a, manager, "manager"), sign_in(a, employee, "employee"),
                                sign_in(b, employee, "employee"))
            manager_b = sign_in(b, manager, "manager")
            timings: dict[str, list[float]] = {"post: same worker (A)": [],
                                               "post: other worker (B)": [],
                                               "dismiss: other worker (B)": [],
                                               "lacked skill in GET /skills: other worker (B)": [],
                                               "plan that needed it changed: other worker (B)": [],
                                               "opening: applicants and candidates on B": []}
            for trial in range(args.trials):
                listed(b, me_b, employee)  # B has just checked the store
                named = [labels.get(e.skill_uri, "") for e in held[trial:trial + 3]]
                made = a.post("/v1/opportunities", headers={
                    **boss, "Idempotency-Key": f"bench-post-{trial}-{time.time_ns()}"}, json={
                    "kind": "project", "title": f"Live benchmark project {trial}",
                    "description": "A three-month project. You will " + "; ".join(named) + ".",
                    "location": person.location, "level": person.level})
                made.raise_for_status()
                oid = made.json()["id"]
                inferred = {r["uri"] for r in made.json()["required_skills"]}
                found_named.append(len(inferred & {e.skill_uri
                                                   for e in held[trial:trial + 3]}))

                def shown(client: TestClient, headers: dict[str, str], oid: str = oid) -> bool:
                    return oid in listed(client, headers, employee)

                timings["post: same worker (A)"].append(
                    until(lambda: shown(a, me_a), args.poll))
                timings["post: other worker (B)"].append(
                    until(lambda: shown(b, me_b), args.poll))

                lacked = plan_effect(a, b, me_a, me_b, employee, trial, args.poll)
                if lacked is not None:
                    timings["lacked skill in GET /skills: other worker (B)"].append(lacked[0])
                    timings["plan that needed it changed: other worker (B)"].append(lacked[1])
                timings["opening: applicants and candidates on B"].append(
                    opening_effect(a, b, boss, me_a, manager_b, employee, person, trial,
                                   args.poll))
                dismissed = a.post("/v1/events", headers={
                    **me_a, "Idempotency-Key": f"bench-dismiss-{trial}-{time.time_ns()}"},
                    json={"kind": "not_interested", "opportunity_id": oid})
                dismissed.raise_for_status()
                if math.isfinite(timings["post: other worker (B)"][-1]):  # it was listed
                    timings["dismiss: other worker (B)"].append(
                        until(lambda: not shown(b, me_b), args.poll))
            catalog = rec.live_catalog()
            started = time.perf_counter()
            rec._build_catalog()
            rebuild = time.perf_counter() - started
        store.dispose()
    print(f"engine {args.engine or 'as served'}; "
          f"live_refresh_seconds = {settings.live_refresh_seconds}; catalog rebuild "
          f"{rebuild * 1000:.0f} ms for {len(catalog.opportunities)} open opportunities; "
          f"{args.trials} trials, polled every {args.poll} s; of the 3 held skills each "
          f"description names, the engine inferred {found_named}")
    print("| measure | median s | max s | n | missed (no effect in 30 s) |")
    print("|---|---|---|---|---|")
    for name, values in timings.items():
        seen = [v for v in values if math.isfinite(v)]
        missed = len(values) - len(seen)
        if seen:
            print(f"| {name} | {statistics.median(seen):.2f} | {max(seen):.2f} | "
                  f"{len(seen)} | {missed} |")
        else:
            print(f"| {name} | n/a | n/a | 0 | {missed} |")


if __name__ == "__main__":
    main()

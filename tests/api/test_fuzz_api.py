"""Property-based fuzzing of the whole API with schemathesis: every operation of the OpenAPI
document, called in-process (ASGI) on a real app (real SQLite store, real small champion
bundle), authenticated with demo tokens; no response may be a 5xx (``not_a_server_error``).

Each generated case is sent with every role's token (employee, manager, recruiter, ml_admin,
hr_admin: each reaches different code past its 403s), twice per role: once as generated and,
when it has path parameters, once more with ids that exist (so the handlers run past their
404s).
``POST /v1/skills/infer`` answers a documented 503 here (the test settings have no reference
data, so no skills engine); that one is counted apart, not as a failure.
Examples per operation: ``WAYPOINT_FUZZ_EXAMPLES`` (default 20). Run:

    .venv/bin/pytest tests/api/test_fuzz_api.py -s -p no:randomly

The summary (operations, examples, requests, statuses, 5xx), overall and per role, is printed at
the end of the module; every 5xx is recorded (not only the first) and listed in the failure.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, Phase, settings  # noqa: E402
from schemathesis.checks import not_a_server_error  # noqa: E402

from api.app import create_app  # noqa: E402
from api.security.tokens import issue_token  # noqa: E402
from features import tables as t  # noqa: E402
from tests.support.authz_matrix import never_limited  # noqa: E402
from tests.support.occupations_factory import write_small_graph, write_small_title_index  # noqa: E402
from tests.support.product_app import register_champion, settings_for  # noqa: E402
from tests.support.serving_factory import OWNER, RECRUITER, ROLE, build_world  # noqa: E402

EXAMPLES = int(os.environ.get("WAYPOINT_FUZZ_EXAMPLES", "20"))
MANAGER = "e002"
KNOWN_IDS = {"employee_id": OWNER, "role_id": ROLE, "opportunity_id": "open-1"}
STATS: Counter[str] = Counter()
ROLE_STATS: dict[str, Counter[str]] = {}
SERVER_ERRORS: list[str] = []


@pytest.fixture(scope="module")
def fuzz_app(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    from schemathesis.python import asgi

    folder = tmp_path_factory.mktemp("fuzz")
    world = build_world(folder)
    app_settings = settings_for(folder, world)
    write_small_graph(app_settings.artifact_dir, [r.onet_code for r in world.org.roles
                                                  if r.onet_code])
    write_small_title_index(app_settings.artifact_dir)
    with pytest.MonkeyPatch.context() as patch:
        patch.chdir(folder)  # MLflow's default artifact root is ./mlruns
        register_champion(app_settings.mlflow_tracking_uri, world.bundle_dir)
        app = create_app(app_settings)
        never_limited(app)
        schema = schemathesis.openapi.from_asgi("/openapi.json", app)  # starts the lifespan
        assert app.state.serving_model.wait(120)
        assert app.state.serving_model.current is not None
        manager = MANAGER  # the world has no reporting line: give OWNER a manager
        with world.store().engine.begin() as conn:
            conn.execute(t.employees.update().where(t.employees.c.id == OWNER)
                         .values(manager_id=manager))
        tokens = {"employee": issue_token(app_settings, OWNER, "employee")[0],
                  "manager": issue_token(app_settings, manager, "manager")[0],
                  "recruiter": issue_token(app_settings, RECRUITER, "recruiter")[0],
                  "ml_admin": issue_token(app_settings, "ml-admin", "ml_admin")[0],
                  "hr_admin": issue_token(app_settings, "hr-admin", "hr_admin")[0]}
        yield {"app": app, "schema": schema, "tokens": tokens}
        print(f"\nfuzz: {STATS['operations']} operations, {STATS['examples']} examples, "
              f"{STATS['requests']} requests, {len(SERVER_ERRORS)} 5xx; statuses "
              f"{dict(sorted(STATS.items()))}")
        for who, counts in ROLE_STATS.items():
            print(f"  {who}: {STATS['operations']} operations, {STATS['examples']} examples, "
                  f"{counts['requests']} requests, {counts['5xx']} 5xx; statuses "
                  f"{dict(sorted((k, v) for k, v in counts.items() if k.startswith('status')))}")
        for failure in SERVER_ERRORS[:20]:
            print("  5xx:", failure)
        asgi.shutdown_lifespans()


ENGINE_PATHS = frozenset({"/v1/skills/infer", "/v1/opportunities",
                          "/v1/opportunities/{opportunity_id}",
                          "/v1/employees/{employee_id}/evidence"})
"""Routes that run the skills engine (there is none in the fuzzed app, by design)."""


def _send(case: Any, tokens: dict[str, str], label: str) -> None:
    STATS["examples"] += 1
    variants = [dict(case.path_parameters or {})]
    if case.path_parameters:
        variants.append({name: KNOWN_IDS.get(name, value)
                         for name, value in case.path_parameters.items()})
    for who, token in tokens.items():
        for params in variants:
            if params:
                case.path_parameters = params
            response = case.call(headers={"Authorization": f"Bearer {token}"})
            per_role = ROLE_STATS.setdefault(who, Counter())
            STATS["requests"] += 1
            STATS[f"status_{response.status_code}"] += 1
            per_role["requests"] += 1
            per_role[f"status_{response.status_code}"] += 1
            if (response.status_code == 503 and case.path in ENGINE_PATHS
                    and "skills engine is unavailable" in response.text):
                STATS["expected_503_no_skills_engine"] += 1  # no reference data here, by design
                continue
            if (response.status_code == 503 and case.path == "/readyz"
                    and response.json().get("ready") is False):
                STATS["expected_503_not_ready"] += 1  # the readiness probe: no engine here
                continue
            try:
                case.validate_response(response, checks=[not_a_server_error])
            except (Exception, BaseExceptionGroup) as exc:  # record every failure
                per_role["5xx"] += 1
                SERVER_ERRORS.append(f"{who} {label} {params} -> {response.status_code}: "
                                     f"{response.text[:200]!r} [{type(exc).__name__}]")


def test_no_server_errors(fuzz_app: dict[str, Any]) -> None:
    """Positive and negative cases for every operation; the test fails listing each 5xx."""
    from hypothesis import given
    from hypothesis import strategies as st
    from schemathesis import GenerationMode

    for result in fuzz_app["schema"].get_all_operations():
        operation = result.ok()
        STATS["operations"] += 1
        strategy = st.one_of(operation.as_strategy(GenerationMode.POSITIVE),
                             operation.as_strategy(GenerationMode.NEGATIVE))

        @given(case=strategy)
        @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck), phases=[Phase.generate])
        def run(case: Any) -> None:
            _send(case, fuzz_app["tokens"], f"{case.method} {case.path}")

        run()
    assert STATS["operations"] > 10
    assert set(ROLE_STATS) == set(fuzz_app["tokens"])  # every role's token was used
    assert not SERVER_ERRORS, "\n".join(SERVER_ERRORS[:20])

"""No response of the API can carry a protected attribute: the OpenAPI schema of every response
of every operation is walked (through ``$ref``, items, combinators and additional properties)
and no object may have a property named like one. Routes added later are covered as they come.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

from tests.support.authz_matrix import matrix_app

PROTECTED_NAMES = frozenset({"sex", "race", "race_ethnicity", "ethnicity", "age", "age_band",
                             "gender"})


def protected_properties(spec: dict[str, Any]) -> list[str]:
    """'METHOD path status: Schema.property' for each protected property a response can carry."""
    components = spec.get("components", {}).get("schemas", {})
    found: list[str] = []

    def walk(schema: Any, where: str, seen: frozenset[str]) -> None:
        if isinstance(schema, list):
            for item in schema:
                walk(item, where, seen)
            return
        if not isinstance(schema, dict):
            return
        ref = schema.get("$ref")
        if isinstance(ref, str):
            name = ref.rsplit("/", 1)[-1]
            if name not in seen:
                walk(components.get(name, {}), f"{where} > {name}", seen | {name})
        for prop, sub in (schema.get("properties") or {}).items():
            if prop.lower() in PROTECTED_NAMES:
                found.append(f"{where}.{prop}")
            walk(sub, f"{where}.{prop}", seen)
        for key in ("items", "additionalProperties", "prefixItems", "allOf", "anyOf", "oneOf",
                    "not", "patternProperties"):
            sub = schema.get(key)
            if key == "patternProperties" and isinstance(sub, dict):
                sub = list(sub.values())
            walk(sub, where, seen)

    for path, item in spec.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict):
                continue
            for status, response in (operation.get("responses") or {}).items():
                for media in (response.get("content") or {}).values():
                    walk(media.get("schema"), f"{method.upper()} {path} {status}", frozenset())
    return found


def test_no_response_schema_has_a_protected_attribute() -> None:
    spec = matrix_app().openapi()
    operations = sum(len(item) for item in spec["paths"].values())
    print(f"\nresponse schemas checked: {operations} operations")
    assert operations > 0
    assert protected_properties(spec) == []


def test_the_walker_finds_protected_attributes_behind_refs_and_lists() -> None:
    class Group(BaseModel):
        Gender: str

    class Person(BaseModel):
        name: str
        age_band: str

    class Page(BaseModel):
        items: list[Person]
        by_group: dict[str, Group]

    app = FastAPI()

    @app.get("/people", response_model=Page)
    def people() -> Page:  # pragma: no cover - never called
        raise NotImplementedError

    found = protected_properties(app.openapi())
    assert any(f.endswith("Person.age_band") for f in found), found
    assert any(f.endswith("Group.Gender") for f in found), found


def test_rounded_shares_add_up_to_one() -> None:
    from api.candidate_view import rounded_shares
    assert rounded_shares([0.45, 0.55]) == [0.5, 0.5]  # halves up each would show 110%
    assert rounded_shares([0.35, 0.65]) == [0.4, 0.6]
    assert rounded_shares([0.3, 0.3, 0.4]) == [0.3, 0.3, 0.4]
    assert rounded_shares([0.15, 0.15, 0.7]) == [0.2, 0.1, 0.7]
    assert round(sum(rounded_shares([0.05, 0.15, 0.25, 0.55])), 9) == 1.0


def test_a_low_impact_ratio_is_flagged_in_one_sentence_with_what_to_do() -> None:
    from api.candidate_view import GroupShare, fairness_flag
    groups = [GroupShare(group="female", pool_share=0.5, top_share=0.3),
              GroupShare(group="male", pool_share=0.5, top_share=0.7)]
    flag = fairness_flag(20, groups, 0.6)
    assert flag is not None and flag.count(".") == 2  # what happened; what to do
    assert flag.startswith("female make up 50% of the candidates retrieved but 30% of the top 20")
    assert "look further down the list" in flag
    assert fairness_flag(20, groups, 0.9) is None  # within the guideline
    assert fairness_flag(20, groups, None) is None  # withheld or suppressed: never a finding
    suppressed = [GroupShare(group="female", pool_share=None, top_share=None)]
    assert fairness_flag(20, suppressed, 0.5) is None

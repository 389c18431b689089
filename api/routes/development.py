"""``GET /v1/employees/{employee_id}/development-plan?target_role_id=...``: the gaps between an
employee's skills and a role's requirements, and what closes them.

Who: the employee, their managers (direct or indirect), hr_admin (``authorize_employee``).
The plan (``inference.ranking.development``) lists each gap, most important first, with the required
and current level, the courses that teach it and the open projects, gigs, rotations and
mentorships that practise it, plus a course plan and the weeks to readiness at
``WEEKLY_LEARNING_HOURS`` a week. Profiles and requirements are the serving model's (503 until a
champion is loaded); skills the employee rejected count as absent.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query

from api.deps import StoreDep
from api.ratelimit import heavy_limited
from api.security import Principal, authorize_employee, get_current_principal
from api.security.objects import not_found
from api.serving import ServingModelDep, recommender_of
from inference.ranking.development import DevelopmentPlan, development_plan
from inference.ranking.recommender import UnknownSubject

router = APIRouter(prefix="/v1/employees", tags=["development"],
                   dependencies=[Depends(get_current_principal)])


@router.get("/{employee_id}/development-plan", response_model=DevelopmentPlan,
            responses={503: {"description": "no champion model is loaded"}})
def plan(
    employee_id: str, store: StoreDep, serving: ServingModelDep,
    principal: Annotated[Principal, Depends(heavy_limited("employees.development_plan"))],
    target_role_id: Annotated[str, Query(min_length=1, max_length=64,
                                         description="The role to get ready for.")],
) -> DevelopmentPlan:
    """Skill gaps toward a target role, ordered by importance, with courses, practice
    opportunities and an estimated time to readiness (yourself, your reports, anyone for
    hr_admin)."""
    authorize_employee(principal, employee_id, store)
    if store.role(target_role_id) is None:
        raise not_found("role", target_role_id)
    recommender = recommender_of(serving)
    role = recommender.roles.get(target_role_id)
    try:
        recommender.known_employee(employee_id)
        if role is None:
            raise UnknownSubject(f"role {target_role_id!r} is not known to the serving model; "
                                 "reload the model after the organization changes")
    except UnknownSubject as exc:
        raise HTTPException(404, str(exc)) from None
    return development_plan(
        employee_id=employee_id, role=role,
        requirements=recommender.requirements_for_role(role.id),
        entries=recommender.skill_entries(employee_id), label=recommender.label,
        courses_by_skill=recommender.courses_by_skill,
        opportunities=recommender.open_opportunities(), model_version=recommender.version,
        as_of=recommender.as_of)

"""Authentication, access roles and object-level authorization for every endpoint.

Use from a route module (the whole public API; details in docs/security.md)::

    from api.ratelimit import rate_limited
    from api.security import (CurrentUser, Principal, UserRole, authorize_candidate_view,
                              authorize_employee, authorize_opportunity,
                              authorize_role_for_recruiter, get_current_principal,
                              require_roles)

    # router-level dependencies run first: no body parsing or model loading before the token
    router = APIRouter(prefix="/v1/...", dependencies=[Depends(get_current_principal)])

    @router.get("/v1/employees/{employee_id}/recommendations")
    def recommendations(employee_id: str, principal: CurrentUser, store: StoreDep) -> ...:
        authorize_employee(principal, employee_id, store)        # 404 unknown, 403 not yours

    @router.post("/v1/admin/retrain")
    def retrain(principal: Annotated[Principal, Depends(require_roles(UserRole.ML_ADMIN))]):

    @router.get("/v1/roles/{role_id}/candidates")
    def candidates(role_id: str, store: StoreDep,
                   principal: Annotated[Principal, Depends(rate_limited("roles.candidates"))]):
        authorize_role_for_recruiter(principal, role_id, store)

- ``CurrentUser``: ``Annotated[Principal, Depends(...)]``; 401 + ``WWW-Authenticate: Bearer``
  without a valid token (Waypoint's own, or the identity provider's: `api.security.oidc`,
  `api.security.bearer`). ``Principal(user_id, role: UserRole, employee_id: str | None)``.
- ``require_roles(*roles)``: dependency returning the principal, 403 for other roles.
- ``authorize_employee(principal, employee_id, store) -> Employee``: self; manager: direct and
  indirect reports; hr_admin: anyone; recruiter and ml_admin: only themselves / no one.
- ``authorize_candidate_view(principal, employee_id, store) -> Employee``: hr_admin anyone;
  recruiter (or a manager owning an open opportunity): discoverable employees only.
- ``authorize_role_for_recruiter(principal, role_id, store) -> Role``: hr_admin, or a
  recruiter owning an open ``open_role`` opportunity for the role.
- ``authorize_opportunity(principal, opportunity_id, store, *, manage=False) -> Opportunity``:
  open ones visible to all; closed/filled to owner and hr_admin; ``manage`` = owner or hr_admin.
- ``report_ids(store, manager_id) -> set[str]`` to filter lists for a manager.

Every check returns the object it loaded, 404 for an unknown id, 410 for an employee who left
the organization (``waypoint import`` marks them; ``refuse_leaver`` closes their own sign-in
with 403) and 403 for a known id the caller may not see. No response model may carry a
protected attribute (tests/unit/test_response_schemas.py walks the OpenAPI schema), and every
path parameter is covered by the authorization matrix (tests/support/authz_matrix.py: add new
parameter names there).
"""

from api.security.dependencies import (
    TOKEN_URL,
    CurrentUser,
    forbidden,
    get_current_principal,
    oauth2_scheme,
    refuse_leaver,
    require_roles,
    unauthorized,
)
from api.security.objects import (
    authorize_candidate_view,
    authorize_employee,
    authorize_opportunity,
    authorize_role_for_recruiter,
    is_report,
    owned_role_ids,
    report_ids,
)
from api.security.principals import (
    ADMIN_ACCOUNTS,
    CredentialVerifier,
    Principal,
    UserRole,
    demo_user_for,
    resolve_principal,
)
from api.security.tokens import InsecureSecretError, check_secret, decode_token, issue_token

__all__ = [
    "ADMIN_ACCOUNTS",
    "TOKEN_URL",
    "CredentialVerifier",
    "CurrentUser",
    "InsecureSecretError",
    "Principal",
    "UserRole",
    "authorize_candidate_view",
    "authorize_employee",
    "authorize_opportunity",
    "authorize_role_for_recruiter",
    "check_secret",
    "decode_token",
    "demo_user_for",
    "forbidden",
    "get_current_principal",
    "is_report",
    "issue_token",
    "oauth2_scheme",
    "owned_role_ids",
    "refuse_leaver",
    "report_ids",
    "require_roles",
    "resolve_principal",
    "unauthorized",
]

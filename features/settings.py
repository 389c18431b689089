"""Settings from the environment (prefix ``WAYPOINT_``), built by one cached function.

Nothing is read at import time; tests override by calling ``get_settings.cache_clear()`` after
changing the environment, or by passing a ``Settings`` object explicitly.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGED_ENCODER = "packaged:all-MiniLM-L6-v2"
OidcAlgorithm = Literal["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384"]
"""Signature algorithms an identity provider's tokens may use: asymmetric only (no ``none``,
no HMAC, so a public key can never be used as a shared secret)."""
DEFAULT_OIDC_ALGS: tuple[OidcAlgorithm, ...] = ("RS256", "ES256")
OidcAdminRole = Literal["hr_admin", "ml_admin"]
"""Roles an identity-provider group can grant (employee, manager, recruiter come from the store)."""


def _default_data_dir() -> Path:
    shared = REPO_ROOT.parent / "shared" / "data"
    if shared.is_dir():
        return shared
    return Path.home() / ".cache" / "waypoint" / "data"


def _default_benchmarks_dir() -> Path:
    return REPO_ROOT.parent / "shared" / "benchmarks"


class Settings(BaseSettings):
    """Every knob a deployment sets. Pipeline hyper-parameters live in ``params.yaml`` instead."""

    model_config = SettingsConfigDict(env_prefix="WAYPOINT_", env_file=None, extra="ignore")

    data_dir: Path = Field(default_factory=_default_data_dir)
    benchmarks_dir: Path = Field(default_factory=_default_benchmarks_dir)
    artifact_dir: Path = REPO_ROOT / "models"
    database_url: str = f"sqlite:///{REPO_ROOT / 'models' / 'waypoint.db'}"
    mlflow_tracking_uri: str = f"sqlite:///{REPO_ROOT / 'models' / 'mlflow.db'}"
    encoder: str = PACKAGED_ENCODER
    crosswalk_overrides: Path = REPO_ROOT / "data" / "crosswalk_overrides.csv"
    """The HR admin's O*NET -> ESCO occupation overrides (docs/crosswalk.md); they win wherever
    the mapping is used."""
    model_name: str = "waypoint-ranker"
    demo_mode: bool = False
    """Demo accounts (password ``demo``) and the demo-users endpoint; off unless asked for
    (``WAYPOINT_DEMO_MODE=true``, as ``make demo`` does). See docs/security.md."""
    demo_public: bool = False
    """Let demo mode serve on a non-loopback address (``waypoint serve --force-public-demo``)."""
    secret_key: str = "change-me"
    host: str = "127.0.0.1"
    port: int = 8000
    # security (see docs/security.md)
    token_ttl_minutes: int = Field(default=60, ge=1, le=24 * 60)
    """Lifetime of a signed bearer token."""
    rate_limit_per_minute: int = Field(default=120, ge=1)
    """Default token-bucket size per principal and list endpoint (OWASP API4)."""
    rate_limits: dict[str, int] = Field(default_factory=dict)
    """Per-endpoint overrides by limiter name, e.g. ``{"employees.list": 30}``."""
    token_rate_limit_per_minute: int = Field(default=10, ge=1)
    """Sign-in attempts per (user name, client address) per minute at ``POST /v1/auth/token``."""
    token_address_rate_limit_per_minute: int = Field(default=30, ge=1)
    """Sign-in attempts per client address per minute, whatever the user names."""
    heavy_concurrency: int = Field(default=2, ge=0)
    """Heavy requests (scoring, skills inference, reloads) running at once; 0: no limit."""
    heavy_wait_seconds: float = Field(default=10.0, gt=0)
    """How long a heavy request waits for a slot before a 503."""
    max_body_bytes: int = Field(default=32 * 1024, ge=1024)
    """Request body limit of every endpoint (the skills text endpoint has its own, larger)."""
    live_refresh_seconds: float = Field(default=2.0, gt=0)
    """How often (at most) a worker checks the store for posted, edited or closed opportunities
    (`inference.ranking.recommender`): a change through any worker is in every worker's lists
    within this many seconds plus the catalog rebuild."""
    # sign-in from the company's identity provider (OIDC bearer tokens; docs/security.md)
    oidc_issuer: str | None = None
    """The identity provider's issuer URL (its ``iss``); unset: OIDC tokens are not accepted.
    Its ``/.well-known/openid-configuration`` names the JWKS; https (http only on loopback)."""
    oidc_audience: str | None = None
    """The ``aud`` an access token must carry for Waypoint (required with the issuer)."""
    oidc_employee_id_claim: str = Field(default="employee_id", min_length=1)
    """The claim holding the Waypoint employee id (a dotted path reads a nested claim)."""
    oidc_groups_claim: str = Field(default="groups", min_length=1)
    """The claim holding the user's groups or roles, e.g. ``groups``, ``roles`` (Entra app
    roles) or ``realm_access.roles`` (Keycloak realm roles)."""
    oidc_role_groups: dict[str, OidcAdminRole] = Field(default_factory=dict)
    """Group -> admin role, as JSON, e.g. ``{"waypoint-hr-admins": "hr_admin"}``."""
    oidc_algorithms: list[OidcAlgorithm] = Field(default_factory=lambda: list(DEFAULT_OIDC_ALGS),
                                                 min_length=1)
    """Accepted token signature algorithms (asymmetric only)."""
    oidc_leeway_seconds: int = Field(default=30, ge=0, le=300)
    """Clock skew allowed on ``exp``, ``nbf`` and ``iat``."""
    oidc_jwks_ttl_seconds: int = Field(default=3600, ge=1)
    """How long the discovered JWKS is used before it is fetched again."""
    oidc_jwks_min_refetch_seconds: float = Field(default=30.0, ge=0)
    """Fewest seconds between two fetches (an unknown key id, a failed fetch): a flood of
    tokens with made-up key ids costs the provider one request per this interval."""
    oidc_http_timeout_seconds: float = Field(default=5.0, gt=0, le=60)
    """Timeout of each request to the provider (discovery, JWKS)."""

    @model_validator(mode="after")
    def _oidc_needs_an_audience(self) -> Settings:
        if self.oidc_issuer and not self.oidc_audience:
            raise ValueError("WAYPOINT_OIDC_ISSUER is set but WAYPOINT_OIDC_AUDIENCE is not: "
                             "set the audience Waypoint's access tokens carry")
        return self

    @property
    def fetch_cache_dir(self) -> Path:
        return Path.home() / ".cache" / "waypoint" / "data"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()


def set_offline_environment() -> None:
    """Make sure no library reaches for the network at run time (weights, telemetry)."""
    for key, value in {
        "HF_HUB_OFFLINE": "1",
        "TRANSFORMERS_OFFLINE": "1",
        "MLFLOW_DISABLE_TELEMETRY": "true",
        "DO_NOT_TRACK": "1",
        "DVC_NO_ANALYTICS": "1",
        "TOKENIZERS_PARALLELISM": "false",
    }.items():
        os.environ.setdefault(key, value)

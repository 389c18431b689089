"""The app factory: ``create_app(settings)`` builds the app; the lifespan opens the store once.

Routers are listed in `ROUTERS` (matched in that order; `DEMO_ROUTERS` only in demo mode) and
`BODY_LIMITS` gives a path a body limit of its own; a new endpoint adds its route module there.
`api.guard.RequestGuard` checks the token and the body size before any route runs.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.errors import install_error_handlers
from api.guard import RequestGuard
from api.routes import (
    admin,
    auth,
    development,
    directory,
    discoverability,
    employees,
    events,
    evidence,
    health,
    occupations,
    opportunities,
    recommendations,
    roles,
    saved,
    skills,
    web,
)
from api.security import check_secret
from api.security.oidc import OidcVerifier
from features.settings import Settings, get_settings, set_offline_environment
from features.store import Store

ATTRIBUTION = (
    "This service uses the ESCO classification of the European Commission. "
    "This product includes information from the O*NET 29.3 Database by the U.S. Department of "
    "Labor, Employment and Training Administration (USDOL/ETA), used under the CC BY 4.0 license. "
    "Skill-span data: Zhang et al., SkillSpan (NAACL 2022), MIT licence."
)
log = logging.getLogger("waypoint.api")
DEMO_WARNING = ("DEMO MODE IS ON: every account signs in with the password 'demo' and "
                "/v1/auth/demo-users lists them. Never expose this server; unset "
                "WAYPOINT_DEMO_MODE for real use.")


ROUTERS = (admin.router, auth.router, development.router, directory.router,
           discoverability.router, employees.router, events.router, evidence.router,
           health.router,
           occupations.router, opportunities.router, recommendations.router, roles.router,
           saved.router, skills.router, web.router)
"""Every router the API serves, in the order they are matched."""
DEMO_ROUTERS = (directory.demo_router,)
"""Routers that exist in demo mode only (the demo accounts)."""
BODY_LIMITS: dict[str, int] = {**auth.BODY_LIMITS, **skills.BODY_LIMITS}
"""Paths with a body limit of their own (others: ``settings.max_body_bytes``)."""


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()
    check_secret(settings)  # refuse to start with the placeholder secret outside demo mode
    set_offline_environment()
    if settings.demo_mode:
        log.warning(DEMO_WARNING)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = Store(settings.database_url)
        store.create_schema()
        app.state.store = store
        # The champion model loads in the background (recommendation endpoints answer 503
        # until it is ready, or when there is no champion); every served list is audit-logged.
        from inference.serving.audit_log import ServedListLog
        from inference.serving.model import ServingModel, champion_loader

        app.state.served_list_log = ServedListLog(store)
        app.state.serving_model = ServingModel(champion_loader(settings, store))
        app.state.serving_model.load_in_background()
        # The skills engine (model + index) loads once, in the background; /readyz waits for it.
        from inference.serving.skills_engine import ServingSkillEngine
        from inference.skills.artifacts import load_engine

        app.state.skills_holder = ServingSkillEngine(lambda: load_engine(settings))
        if getattr(app.state, "skills_engine", None) is None:
            app.state.skills_holder.load_in_background()
        try:
            yield
        finally:
            app.state.served_list_log.close()
            store.dispose()

    app = FastAPI(
        title="Waypoint",
        version="0.1.0",
        description="Internal talent-mobility recommendations. " + ATTRIBUTION,
        lifespan=lifespan,
    )
    app.state.settings = settings
    # sign-in from the identity provider: keys are fetched on the first token, not here
    app.state.oidc_verifier = OidcVerifier(settings) if settings.oidc_issuer else None
    install_error_handlers(app)
    for router in ROUTERS:
        app.include_router(router)
    if settings.demo_mode:
        for router in DEMO_ROUTERS:
            app.include_router(router)
    app.add_middleware(RequestGuard, settings=settings, body_limits=BODY_LIMITS)
    return app

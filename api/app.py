"""The app factory: ``create_app(settings)`` builds the app; the lifespan opens the store once.

Routers are discovered in ``api.routes`` (every module exposing ``router``; ``demo_router`` is
included in demo mode only; ``BODY_LIMITS`` gives a path a body limit of its own), so a route
module is the only file a new endpoint needs. `api.guard.RequestGuard` checks the token and the
body size before any route runs.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from api.errors import install_error_handlers
from api.guard import RequestGuard
from api.security import check_secret
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
        from inference.audit_log import ServedListLog
        from inference.serving_model import ServingModel, champion_loader

        app.state.served_list_log = ServedListLog(store)
        app.state.serving_model = ServingModel(champion_loader(settings, store))
        app.state.serving_model.load_in_background()
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
    install_error_handlers(app)
    import api.routes as routes

    body_limits: dict[str, int] = {}
    for info in sorted(pkgutil.iter_modules(routes.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"{routes.__name__}.{info.name}")
        body_limits.update(getattr(module, "BODY_LIMITS", {}))
        for name in ("router", "demo_router") if settings.demo_mode else ("router",):
            router = getattr(module, name, None)
            if router is not None:
                app.include_router(router)
    app.add_middleware(RequestGuard, settings=settings, body_limits=body_limits)
    return app

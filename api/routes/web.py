"""The web page: ``GET /`` redirects to ``/app/``, a dependency-free single page (plain HTML,
JavaScript and CSS in ``api/web/``) over the JSON API: sign-in, the employee marketplace and
development plan, a manager's reports, the recruiter's candidates with the list's fairness
figures, and career paths.

The page holds no data and no secret: it signs in with the OAuth2 password flow and calls the
same ``/v1`` endpoints as any client, so every authorization check stays in the API. The files
are served with a strict Content-Security-Policy (scripts and styles from this origin only; no
inline script), and the routes are left out of the OpenAPI document.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Depends
from fastapi.responses import FileResponse, RedirectResponse

from api.ratelimit import address_limited

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
"""``api/web``, found next to this package whether installed or run from the tree."""

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",
}

FILES = {"index.html": "text/html; charset=utf-8",
         "app.js": "text/javascript; charset=utf-8",
         "app.css": "text/css; charset=utf-8"}

router = APIRouter(include_in_schema=False,
                   dependencies=[Depends(address_limited("web", 600))])


def _file(name: str) -> FileResponse:
    return FileResponse(WEB_DIR / name, media_type=FILES[name], headers=SECURITY_HEADERS)


@router.get("/")
def root() -> RedirectResponse:
    return RedirectResponse("/app/", status_code=307)


@router.get("/app")
def app_no_slash() -> RedirectResponse:
    return RedirectResponse("/app/", status_code=307)


@router.get("/app/")
def index() -> FileResponse:
    return _file("index.html")


@router.get("/app/app.js")
def script() -> FileResponse:
    return _file("app.js")


@router.get("/app/app.css")
def stylesheet() -> FileResponse:
    return _file("app.css")

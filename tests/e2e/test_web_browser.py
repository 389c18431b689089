"""The web page in a real browser: headless Chromium (the Debian ``chromium`` package, driven by
Playwright for Python through its executable path; no browser download) against the real app
served by uvicorn on a free localhost port, over a real SQLite store and a real small champion
bundle (``tests/support/product_app.py``).

It signs in as an employee, a manager and a recruiter the way a person does (the form, or the
demo-account buttons), opens each view and checks what is on the screen against what the API
serves: opportunity titles in rank order, skill bars with their widths, a development-plan gap,
a manager's report's marketplace, candidate names and ids, the list's fairness figures, career
path steps; and readable messages for a refused view, a wrong password and an ended session.
Then the live views: filters and paging, apply and dismiss on cards, the profile page (skills
with evidence, a self-description, a rejection), and a manager posting an opportunity, seeing
its applicant and its fairly re-ranked candidates, and closing it.

Then the saved list (save on a card, the list after a reload), the "My places" filter and its
reason, and a manager endorsing a report's skill from the report's marketplace.

Without Chromium (or Playwright) the module is skipped locally and fails under ``CI``.
Screenshots of each view go to the test's tmp folder; the live views' (``live-*``) also go to
``$WAYPOINT_SCREENSHOTS`` when set (an absolute path: the README's are made with
``WAYPOINT_SCREENSHOTS=$PWD/docs/screenshots``; its other screenshots are the demo's, taken by
``tests/support/web_walkthrough.py``).
"""

from __future__ import annotations

import math
import os
import re
import shutil
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI

from features import tables as t
from features.domain import FULL_TIME_HOURS
from tests.support.live_factory import add_opportunities
from tests.support.product_app import Product, product_app
from tests.support.serving_factory import OWNER, RECRUITER, ROLE

CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                 "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]
MANAGER = "e020"
"""Made a manager here: e004 (OWNER) and e021 report to them, e022 to e021 (indirect)."""
REPORTS = {"e004": MANAGER, "e021": MANAGER, "e022": "e021"}
TIMEOUT_MS = 30_000
PROTECTED = re.compile(r"\b(female|male|group a|group b|30-39)\b", re.IGNORECASE)


def chromium_path() -> str | None:
    return (os.environ.get("WAYPOINT_CHROMIUM") or shutil.which("chromium")
            or shutil.which("chromium-browser"))


def missing(reason: str) -> None:
    """Skip locally; fail under CI, where the browser test is required (.ci/run installs it)."""
    if os.environ.get("CI"):
        pytest.fail(f"{reason} (required in CI: .ci/run installs the Debian chromium package)")
    pytest.skip(reason)


@contextmanager
def live_server(app: FastAPI) -> Iterator[str]:
    """Serve an app whose lifespan already ran (``product_app``) with uvicorn in a thread."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, lifespan="off", log_level="warning"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def make_managers(product: Product) -> None:
    """Give the world a reporting line (its employees have no manager)."""
    with product.world.store().engine.begin() as conn:
        for employee, manager in REPORTS.items():
            conn.execute(t.employees.update().where(t.employees.c.id == employee)
                         .values(manager_id=manager))


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Product]]:
    if chromium_path() is None:
        missing("no Chromium executable (Debian package `chromium`)")
    with product_app(tmp_path_factory.mktemp("web")) as product:
        make_managers(product)
        with live_server(product.app) as url:
            yield url, product


@pytest.fixture(scope="module")
def browser(site: tuple[str, Product]) -> Iterator[Any]:
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        missing("Playwright for Python is not installed (the dev extra)")
    with sync_playwright() as playwright:
        # launch() gives the browser a fresh temporary profile (user-data dir) of its own
        browser = playwright.chromium.launch(executable_path=chromium_path(), headless=True,
                                             args=CHROMIUM_ARGS)
        yield browser
        browser.close()


class Screen:
    """One browser tab on the site, recording uncaught script errors and console errors."""

    def __init__(self, browser: Any, url: str, shots: Path) -> None:
        self.context = browser.new_context(viewport={"width": 1280, "height": 900})
        self.page = self.context.new_page()
        self.page.set_default_timeout(TIMEOUT_MS)
        self.url, self.shots = url, shots
        self.errors: list[str] = []
        self.page.on("pageerror", lambda exc: self.errors.append(f"page error: {exc}"))
        self.page.on("console", self._console)

    def _console(self, message: Any) -> None:
        # a refused API call is logged by Chromium as "Failed to load resource"; that is the
        # page working as intended (it shows a message). Anything else is a defect: a script
        # error, a Content-Security-Policy refusal.
        if message.type == "error" and not message.text.startswith("Failed to load resource"):
            self.errors.append(f"console: {message.text}")

    def open(self, path: str = "/") -> None:
        self.page.goto(self.url + path)

    def sign_in(self, user: str, role: str, password: str = "demo") -> None:
        self.page.fill("#login-user", user)
        self.page.fill("#login-password", password)
        self.page.select_option("#login-role", role)
        self.page.click("#login-submit")

    def shot(self, name: str) -> None:
        self.page.wait_for_timeout(150)  # let the last layout settle
        self.page.screenshot(path=str(self.shots / f"{name}.png"), full_page=False)
        target = os.environ.get("WAYPOINT_SCREENSHOTS")
        if target and name.startswith("live-"):  # the others are the demo's (web_walkthrough)
            Path(target).mkdir(parents=True, exist_ok=True)
            shutil.copy(self.shots / f"{name}.png", Path(target) / f"{name}.png")

    def close(self) -> None:
        self.context.close()
        assert self.errors == [], self.errors


@pytest.fixture
def screen(browser: Any, site: tuple[str, Product], tmp_path: Path) -> Iterator[Screen]:
    opened = Screen(browser, site[0], tmp_path)
    yield opened
    opened.close()


def percent(value: float) -> str:
    """The page's rounding (JavaScript ``Math.round`` of the level clamped to [0, 1])."""
    return f"{math.floor(min(max(value, 0.0), 1.0) * 100 + 0.5)}%"


def texts(locator: Any) -> list[str]:
    return [text.strip() for text in locator.all_text_contents()]


def test_employee_marketplace_bars_and_plan(screen: Screen, site: tuple[str, Product]) -> None:
    from playwright.sync_api import expect

    _, product = site
    served = product.call("GET", f"/v1/employees/{OWNER}/recommendations?limit=10",
                          "self").json()
    assert served["items"], "the world must recommend something to the employee"
    page = screen.page
    screen.open()
    expect(page).to_have_url(re.compile(r"/app/"))
    expect(page.locator("#login-view")).to_be_visible()
    expect(page.locator("#demo-users")).to_contain_text("demo")
    screen.shot("sign-in")
    screen.sign_in(OWNER, "employee")

    expect(page.locator("#who-name")).to_have_text(re.compile(rf"\({OWNER}\)"))
    expect(page.locator("#who-role")).to_have_text("employee")
    expect(page.locator("#market-title")).to_have_text("Your opportunities")
    cards = page.locator("li.opportunity")
    expect(cards).to_have_count(len(served["items"]))
    assert texts(page.locator(".opportunity-title")) == [i["title"] for i in served["items"]]
    assert page.locator("#nav-candidates").is_hidden()
    # no raw model score on a person's cards (issue 14): it is not a figure anyone can read
    assert "score" not in (page.locator("#opportunities").text_content() or "").lower()

    # each shown skill is a bar: the required level and the current level as widths
    first, first_card = served["items"][0], cards.nth(0)
    shown_missing = first["missing_skills"][:6]
    shown_matched = first["matched_skills"][:6]
    expect(first_card.locator(".skill")).to_have_count(len(shown_missing) + len(shown_matched))
    for skill, bar in zip(shown_missing, first_card.locator(".skill.missing").all(), strict=True):
        assert bar.locator(".skill-name").text_content() == skill["label"]
        need = bar.locator(".bar-required").evaluate("e => e.style.width")
        have = bar.locator(".bar-current").evaluate("e => e.style.width")
        assert need == percent(skill["required_level"])
        assert have == percent(skill["current_level"])
        assert bar.locator(".bar-required").bounding_box()["width"] > 0
    for skill, bar in zip(shown_matched, first_card.locator(".skill.matched").all(), strict=True):
        assert bar.locator(".bar-current").evaluate("e => e.style.width") == \
            percent(skill["proficiency"])
    for reason in first["reasons"]:
        expect(first_card.locator(".reasons")).to_contain_text(reason["text"])
    screen.shot("marketplace")

    # the development plan for the first opportunity that names a role
    index, target = next((n, i) for n, i in enumerate(served["items"]) if i["role_id"])
    plan = product.call("GET", f"/v1/employees/{OWNER}/development-plan",
                        "self", params={"target_role_id": target["role_id"]}).json()
    cards.nth(index).locator(".plan-button").click()
    panel = page.locator("#plan")
    expect(panel.locator(".plan-title")).to_have_text(f"Toward {plan['target_role_title']}")
    expect(panel.locator(".readiness")).to_have_text(percent(plan["readiness"]))
    if plan["gaps"]:
        gap = plan["gaps"][0]
        expect(panel.locator(".gap").first.locator(".skill-name")).to_have_text(gap["label"])
        if gap["courses"]:
            expect(panel.locator(".gap").first).to_contain_text(gap["courses"][0]["title"])
    page.locator("#plan-panel").scroll_into_view_if_needed()
    screen.shot("development-plan")


def test_manager_opens_a_reports_marketplace(screen: Screen, site: tuple[str, Product]) -> None:
    from playwright.sync_api import expect

    _, product = site
    page = screen.page
    screen.open()
    # the demo-account button for the manager role: the default manager is the first
    # employee with reports, as `waypoint token --as manager` picks
    button = page.locator("button.demo-user[data-role='manager']")
    expect(button).to_contain_text(MANAGER)
    button.click()
    expect(page.locator("#who-role")).to_have_text("manager")
    expect(page.locator("#market-title")).to_have_text("Your opportunities")
    options = page.locator("#subject-select option")
    expect(options).to_have_count(1 + len(REPORTS))  # me, two direct, one indirect
    assert "indirect report" in texts(options)[-1]

    page.select_option("#subject-select", OWNER)
    owner = next(e for e in product.world.org.employees if e.id == OWNER)
    expect(page.locator("#market-title")).to_have_text(
        f"Opportunities for {owner.name} ({OWNER})")
    served = product.call("GET", f"/v1/employees/{OWNER}/recommendations?limit=10",
                          "self").json()
    expect(page.locator("li.opportunity")).to_have_count(len(served["items"]))
    assert texts(page.locator(".opportunity-title")) == [i["title"] for i in served["items"]]
    expect(page.locator(".skill .bar-required").first).to_be_visible()
    screen.shot("manager-report")

    # someone outside the team: a readable refusal, not a blank page
    screen.open(f"/app/#/marketplace?employee={RECRUITER}")
    expect(page.locator("#opportunities .message")).to_contain_text("Not allowed")
    expect(page.locator("li.opportunity")).to_have_count(0)


def test_recruiter_candidates_and_fairness(screen: Screen, site: tuple[str, Product]) -> None:
    from playwright.sync_api import expect

    _, product = site
    page = screen.page
    screen.open()
    page.locator("button.demo-user[data-role='recruiter']").click()
    expect(page.locator("#who-role")).to_have_text("recruiter")
    expect(page).to_have_url(re.compile(r"#/candidates"))
    role = next(r for r in product.world.org.roles if r.id == ROLE)
    expect(page.locator("#role-select")).to_have_value(ROLE)
    expect(page.locator("#candidates-title")).to_have_text(f"Candidates for {role.title}")

    served = product.call("GET", f"/v1/roles/{ROLE}/candidates?limit=20", "recruiter").json()
    cards = page.locator("li.candidate")
    expect(cards).to_have_count(len(served["items"]))
    assert texts(page.locator(".candidate-name")) == [c["name"] for c in served["items"]]
    assert texts(page.locator(".candidate-id")) == [c["employee_id"] for c in served["items"]]
    for card in cards.all():  # a person's protected attribute never appears
        assert not PROTECTED.search(card.text_content() or "")

    fairness = served["fairness"]
    panel = page.locator("#fairness")
    expect(panel).to_contain_text("Fairness of this list")
    facts = dict(zip(texts(panel.locator("dt")), texts(panel.locator("dd")), strict=True))
    assert facts["Candidates retrieved"] == f"{fairness['pool_size']} people"
    expect(panel.locator("p.flag")).to_have_count(1 if fairness["flag"] else 0)
    assert facts["Figures cover"] == f"the top {fairness['prefix']} positions"
    assert facts["Lowest impact ratio"].startswith(f"{fairness['min_impact_ratio']:.1f}")
    assert facts["Fair re-ranking"].startswith("on" if fairness["rerank_enabled"] else "off")
    # no pre-re-ranking position or model score on the page (issue 12)
    assert "model rank" not in (page.locator("#candidates").text_content() or "")
    assert "score" not in (page.locator("#candidates").text_content() or "").lower()
    rows = panel.locator("tbody tr")
    expect(rows).to_have_count(len(fairness["groups"]))
    for group, row in zip(fairness["groups"], rows.all(), strict=True):
        cells = texts(row.locator("th, td"))
        assert cells[0] == group["group"]
        assert cells[1] == percent(group["pool_share"])
        assert cells[2] == percent(group["top_share"])
    screen.shot("recruiter-candidates")


def test_career_paths_as_steps(screen: Screen, site: tuple[str, Product]) -> None:
    from playwright.sync_api import expect

    _, product = site
    # someone in the recruiter's role, which has paths onward (the OWNER's role has none)
    person = next(e for e in product.world.org.employees if e.role_id == ROLE
                  and e.id not in {OWNER, RECRUITER, MANAGER, *REPORTS})
    served = product.call("GET", f"/v1/roles/{ROLE}/paths?limit=10", "self").json()
    assert served["items"], "the world must have paths from the role"
    page = screen.page
    screen.open()
    screen.sign_in(person.id, "employee")
    page.click("#nav-paths")
    expect(page.locator("#paths-title")).to_have_text(
        f"Career paths from {served['role_title']} (your role)")
    steps = page.locator("li.step")
    expect(steps).to_have_count(len(served["items"]))
    assert texts(page.locator(".step-title")) == [s["title"] for s in served["items"]]
    assert texts(page.locator(".step .direction")) == [s["direction"] for s in served["items"]]

    # my plan toward the first step, then the paths onward from it
    first = served["items"][0]
    steps.nth(0).locator(".plan-button").click()
    expect(page.locator("#path-plan .plan-title")).to_have_text(f"Toward {first['title']}")
    screen.shot("career-paths")
    page.locator("li.step").nth(0).locator(".next-button").click()
    expect(page.locator("#paths-title")).to_have_text(f"Career paths from {first['title']}")


def test_employee_is_refused_the_recruiter_view(screen: Screen,
                                                site: tuple[str, Product]) -> None:
    from playwright.sync_api import expect

    page = screen.page
    screen.open(f"/app/#/candidates?role={ROLE}")
    screen.sign_in(OWNER, "employee")
    message = page.locator("#candidates .message")
    expect(message).to_contain_text("Not allowed")
    expect(message).to_contain_text("you do not own an open opportunity for this role")
    expect(page.locator("li.candidate")).to_have_count(0)
    screen.shot("not-allowed")


def test_sign_in_and_session_errors_are_readable(screen: Screen,
                                                 site: tuple[str, Product]) -> None:
    from playwright.sync_api import expect

    page = screen.page
    screen.open()
    screen.sign_in(OWNER, "employee", password="wrong")
    expect(page.locator("#message")).to_have_text(
        "Sign-in failed: incorrect user name, password or role.")
    expect(page.locator("#login-view")).to_be_visible()
    # an employee who is not a recruiter asks for the recruiter role
    screen.sign_in(OWNER, "recruiter")
    expect(page.locator("#message")).to_contain_text("Sign-in failed")

    # a token that is no longer valid: back to the sign-in form with a message
    page.evaluate("sessionStorage.setItem('waypoint.token', 'not-a-token')")
    page.reload()
    expect(page.locator("#message")).to_contain_text("Your session has ended")
    expect(page.locator("#login-view")).to_be_visible()
    expect(page.locator("#who")).to_be_hidden()


def test_no_model_and_rate_limit_messages(browser: Any, site: tuple[str, Product],
                                         tmp_path: Path) -> None:
    """A server with no champion (the pipeline not run) over the same store, and a tight rate
    limit: the page says the service is not ready (503), then too many requests (429)."""
    from fastapi.testclient import TestClient
    from playwright.sync_api import expect

    from api.app import create_app

    _, product = site
    settings = product.settings.model_copy(update={
        "mlflow_tracking_uri": f"sqlite:///{tmp_path / 'no-registry.db'}",
        "rate_limits": {"employees.recommendations": 1}})
    app = create_app(settings)
    with TestClient(app), live_server(app) as url:
        assert app.state.serving_model.wait(30)
        opened = Screen(browser, url, tmp_path)
        page = opened.page
        try:
            opened.open()
            opened.sign_in(OWNER, "employee")
            message = page.locator("#opportunities .message")
            expect(message).to_contain_text("The service is not ready yet: no champion model")
            opened.shot("no-model")
            page.select_option("#kinds-select", "project")  # a second request in the minute
            expect(message).to_contain_text(re.compile(r"Too many requests\. Please wait \d+"))
        finally:
            opened.close()


def test_the_page_is_served_with_a_strict_policy(site: tuple[str, Product]) -> None:
    """Served by the app itself, no inline script, left out of the OpenAPI document."""
    _, product = site
    page = product.client.get("/app/")
    assert page.status_code == 200
    policy = page.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "unsafe-inline" not in policy
    assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", page.text)  # no inline script
    script = product.client.get("/app/app.js").text
    assert not re.search(r"\.(inner|outer)HTML\s*=|insertAdjacentHTML|document\.write", script)
    assert product.client.get("/", follow_redirects=False).headers["location"] == "/app/"
    paths = product.app.openapi()["paths"]
    assert "/" not in paths and not any(p.startswith("/app") for p in paths)


# --------------------------------------------------------------------------- live updates


def commitment(hours: float | None) -> str:
    """A card's time commitment line, as the page words it (`commitment` in app.js)."""
    if hours is None:
        return "Time commitment not stated"
    if hours >= FULL_TIME_HOURS:
        return "Time commitment: full time"
    return f"Time commitment: about {round(hours * 2) / 2:g} h a week"
# These run last: they post, apply and dismiss, which changes the lists the tests above read.


def test_filters_paging_and_actions_on_cards(screen: Screen, site: tuple[str, Product]) -> None:
    from playwright.sync_api import expect

    _, product = site
    add_opportunities(product)
    product.app.state.serving_model.current.live_catalog(force=True)
    page = screen.page
    screen.open()
    screen.sign_in(OWNER, "employee")
    expect(page.locator("#market-title")).to_have_text("Your opportunities")
    served = product.call("GET", f"/v1/employees/{OWNER}/recommendations?limit=10",
                          "self").json()
    assert served["total"] > 10, "enough items to page"
    expect(page.locator("li.opportunity")).to_have_count(10)
    expect(page.locator("#pager")).to_be_visible()
    page.click("#page-next")
    second = product.call("GET", f"/v1/employees/{OWNER}/recommendations?limit=10&offset=10",
                          "self").json()
    expect(page.locator(".rank").first).to_have_text("#11")
    assert texts(page.locator(".opportunity-title")) == [i["title"] for i in second["items"]]

    # a filter: every card at the chosen location, as the API serves it (a location with a
    # card that states its hours, for the commitment check below)
    place = next(i["location"] for i in served["items"] + second["items"]
                 if i["hours_per_week"] is not None)
    page.fill("#filter-location", place)
    page.click("#filter-form button[type=submit]")
    filtered = product.call("GET", f"/v1/employees/{OWNER}/recommendations", "self",
                            params={"limit": 10, "location": place}).json()
    expect(page.locator("li.opportunity")).to_have_count(len(filtered["items"]))
    assert all(place in m for m in texts(page.locator(
        "li.opportunity > .meta:not(.commitment)").filter(has_not_text="posted")))
    first = page.locator("li.opportunity").first
    expect(first.locator(".description")).to_be_visible()
    # every card says its time commitment in plain words, as the API states it
    shown = texts(page.locator("li.opportunity .commitment"))
    assert shown == [commitment(i["hours_per_week"]) for i in filtered["items"]]
    assert any("h a week" in c or "full time" in c for c in shown), shown
    screen.shot("live-marketplace-filters")

    # apply, then dismiss: the dismissed card leaves the list at once
    gone = filtered["items"][0]["opportunity_id"]
    first.locator("button.application").click()
    expect(first.locator(".action-status")).to_contain_text("Applied")
    page.locator(f"li.opportunity[data-id='{gone}'] button.not_interested").click()
    expect(page.locator(f"li.opportunity[data-id='{gone}']")).to_have_count(0)
    assert gone not in [i["opportunity_id"] for i in product.call(
        "GET", f"/v1/employees/{OWNER}/recommendations", "self",
        params={"limit": 100}).json()["items"]]


def use_engine(product: Product, engine: Any) -> None:
    """Serve with the small engine, its skills labelled in the store (as ESCO's are)."""
    product.app.state.skills_engine = engine
    with product.world.store().engine.begin() as conn:
        known = set(conn.execute(t.skills.select().with_only_columns(t.skills.c.uri)).scalars())
        rows = [{"uri": s.uri, "label": s.label, "alt_labels": [], "hidden_labels": [],
                 "description": s.description, "skill_type": "skill/competence",
                 "reuse_level": ""} for s in engine.catalog.skills if s.uri not in known]
        if rows:
            conn.execute(t.skills.insert(), rows)


def test_the_profile_page_shows_and_takes_evidence(screen: Screen, site: tuple[str, Product],
                                                   small_skill_engine: Any) -> None:
    from playwright.sync_api import expect

    _, product = site
    use_engine(product, small_skill_engine)
    page = screen.page
    screen.open()
    screen.sign_in(OWNER, "employee")
    page.click("#nav-profile")
    served = product.call("GET", f"/v1/employees/{OWNER}/skills", "self").json()
    cards = page.locator("li.profile-skill")
    expect(cards).to_have_count(len(served["skills"]))
    assert texts(page.locator(".skill-title")) == [s["label"] for s in served["skills"]]
    expect(page.locator("#discoverable-box")).to_be_checked()
    screen.shot("live-profile")
    page.fill("#describe-text", "I gave presentations to our largest clients every month.")
    page.click("#describe-form button[type=submit]")
    expect(page.locator("#describe-result")).to_contain_text("Added")
    expect(cards).to_have_count(len(served["skills"]) + 1)
    page.fill("#pref-aspirations", "lead data projects")
    page.fill("#pref-locations", "Oslo, Remote")
    page.click("#preferences-form button[type=submit]")
    expect(page.locator("#preferences-result")).to_contain_text("Saved")
    assert product.call("GET", f"/v1/employees/{OWNER}/preferences", "self").json()[
        "locations"] == ["Oslo", "Remote"]
    # reject the first skill: it moves to the rejected list
    label = texts(page.locator(".skill-title"))[0]
    cards.first.locator("button.reject").click()
    expect(page.locator("#profile-rejected")).to_contain_text(label)


def test_a_manager_posts_and_manages_an_opportunity(screen: Screen, site: tuple[str, Product],
                                                    small_skill_engine: Any) -> None:
    from playwright.sync_api import expect

    _, product = site
    use_engine(product, small_skill_engine)
    page = screen.page
    screen.open()
    screen.sign_in(MANAGER, "manager")
    page.click("#nav-postings")
    expect(page.locator("#postings")).to_contain_text("You own no opportunity yet")
    owner = next(e for e in product.world.org.employees if e.id == OWNER)
    page.select_option("#posting-kind", "project")
    page.fill("#posting-title", "Forecasting revamp")
    page.fill("#posting-description", "Build machine learning forecasts with Python and SQL.")
    page.fill("#posting-location", owner.location)
    page.select_option("#posting-level", str(owner.level))
    page.fill("#posting-hours", "6")
    page.click("#posting-form button[type=submit]")
    expect(page.locator("#posting-result")).to_contain_text("Posted Forecasting revamp")
    card = page.locator("li.posting")
    expect(card).to_have_count(1)
    mine = product.call("GET", "/v1/opportunities?owner=me", "self")
    assert mine.status_code == 200  # OWNER owns OWN_PROJECT, not this one
    oid = card.first.get_attribute("data-id")
    assert oid and product.app.state.store.opportunity(oid).owner_id == MANAGER
    assert product.app.state.store.opportunity(oid).hours_per_week == 6.0
    expect(card.first.locator(".meta")).to_contain_text("about 6 h a week")
    expect(card.first.locator(".required-skills li").first).to_be_visible()

    # the report applies through the API; the manager sees the applicant
    assert product.call("POST", "/v1/events", "self", json={
        "kind": "application", "opportunity_id": oid},
        headers={"Idempotency-Key": "web-apply"}).status_code == 201
    page.reload()
    card.first.locator(".applicants-button").click()
    expect(page.locator("#posting-detail .applicants li")).to_have_count(1)
    expect(page.locator("#posting-detail")).to_contain_text(OWNER)
    screen.shot("live-manager-opportunities")

    # the opening's candidates, fairly re-ranked, with the list's figures
    card.first.locator(".candidates-button").click()
    served = product.call("GET", f"/v1/opportunities/{oid}/candidates?limit=20", "self")
    assert served.status_code == 403  # not the employee's to see
    expect(page.locator("#candidates-title")).to_contain_text("Forecasting revamp")
    expect(page.locator("#fairness")).to_contain_text("Fairness of this list")
    screen.shot("live-opening-candidates")
    page.click("#nav-postings")
    page.locator("li.posting .close-button").click()
    expect(page.locator("li.posting .status")).to_have_text("closed")


def test_saved_items_and_my_places(screen: Screen, site: tuple[str, Product]) -> None:
    """Runs after the profile test, which set OWNER's places to Oslo and Remote."""
    from playwright.sync_api import expect

    _, product = site
    page = screen.page
    screen.open()
    screen.sign_in(OWNER, "employee")
    expect(page.locator("#market-title")).to_have_text("Your opportunities")
    expect(page.locator("#saved-panel")).to_be_visible()
    before = product.call("GET", f"/v1/employees/{OWNER}/saved", "self").json()["items"]
    card = page.locator("li.opportunity").nth(1)
    title = card.locator(".opportunity-title").text_content()
    oid = card.get_attribute("data-id")
    card.locator("button.saved").click()
    expect(card.locator(".action-status")).to_contain_text("Saved")
    expect(page.locator("#saved li").first).to_contain_text(title or "")
    saved = product.call("GET", f"/v1/employees/{OWNER}/saved", "self").json()["items"]
    assert [i["opportunity_id"] for i in saved] == [oid] + [i["opportunity_id"] for i in before]
    page.reload()  # durable: the list and the card's state come back from the store
    expect(page.locator(f"#saved li[data-id='{oid}']")).to_have_count(1)
    expect(page.locator(f"li.opportunity[data-id='{oid}'] button.saved")).to_be_disabled()

    # My places: the profile's preferred locations as the list's filter, with the reason
    places = page.locator("#my-places")
    expect(places).to_have_text("My places (Oslo, Remote)")
    places.click()
    expect(page).to_have_url(re.compile(r"location=Oslo(%2C|,)Remote"))
    served = product.call("GET", f"/v1/employees/{OWNER}/recommendations", "self",
                          params={"limit": 10, "location": "Oslo,Remote"}).json()
    assert served["items"], "the world has opportunities in Oslo"
    expect(page.locator("li.opportunity")).to_have_count(len(served["items"]))
    for item, shown in zip(served["items"], page.locator("li.opportunity").all(), strict=True):
        expect(shown.locator(".reasons")).to_contain_text(
            f"It is in a place you prefer ({item['location']})")
    screen.shot("live-saved-and-places")


def test_a_manager_endorses_a_reports_skill(screen: Screen, site: tuple[str, Product]) -> None:
    from playwright.sync_api import expect

    _, product = site
    page = screen.page
    screen.open()
    screen.sign_in(MANAGER, "manager")
    page.select_option("#subject-select", OWNER)
    owner = next(e for e in product.world.org.employees if e.id == OWNER)
    button = page.locator("#report-skills")
    expect(button).to_have_text(f"{owner.name}'s skills and endorsements")
    button.click()
    expect(page.locator("#profile-title")).to_have_text(f"Skills of {owner.name} ({OWNER})")
    expect(page.locator("#profile-aside")).to_be_hidden()  # the report's own settings
    served = product.call("GET", f"/v1/employees/{OWNER}/skills", "self").json()
    cards = page.locator("li.profile-skill")
    expect(cards).to_have_count(len(served["skills"]))
    assert page.locator("button.reject").count() == 0  # only the person rejects a skill
    skill = served["skills"][-1]
    target = page.locator(f"li.profile-skill[data-uri='{skill['uri']}']")
    target.locator("button.endorse").click()
    expect(target.locator(".action-status")).to_contain_text("Endorsed")
    expect(target.locator("button.endorse")).to_be_disabled()
    expect(target.locator(".evidence")).to_contain_text("manager endorsement")
    after = next(s for s in product.call("GET", f"/v1/employees/{OWNER}/skills",
                                         "self").json()["skills"] if s["uri"] == skill["uri"])
    assert after["confidence"] >= skill["confidence"]
    assert any(e["kind"] == "manager_endorsement" for e in after["evidence"])
    screen.shot("live-manager-endorses")

    # the report cannot endorse themself, nor see a colleague's skills
    other = Screen(screen.page.context.browser, screen.url, screen.shots)
    try:
        other.open(f"/app/#/profile?employee={MANAGER}")
        other.sign_in(OWNER, "employee")
        expect(other.page.locator("#profile-skills .message")).to_contain_text("Not allowed")
        expect(other.page.locator("button.endorse")).to_have_count(0)
    finally:
        other.close()

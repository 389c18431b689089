"""The README's browser walkthrough, run against a live server the way a new user clicks it:
sign in with each demo-account button (employee, manager, recruiter), open each view, take a
screenshot, and fail when a view shows an error instead of its content. The manager (who works
in manufacturing) posts a project (``PROJECT``) into the store it runs against.

    make demo            # in one terminal; then, in another:
    .venv/bin/python -m tests.support.web_walkthrough --url http://127.0.0.1:8000 \
        --out docs/screenshots

Uses the system's Chromium (Debian ``chromium``) through Playwright, as
tests/e2e/test_web_browser.py does (that test checks the content against the API on a small
test world; this script checks that the real demo shows every view).
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync"]


PROJECT = "Finishing line quality sprint"
"""The project the demo manager posts (they work in manufacturing); its candidates are shown."""


class Walk:
    def __init__(self, page: Any, url: str, out: Path) -> None:
        self.page, self.url, self.out = page, url.rstrip("/"), out

    def shot(self, name: str) -> None:
        self.page.wait_for_timeout(300)
        self.page.screenshot(path=str(self.out / f"{name}.png"))
        print(f"  screenshot {self.out / (name + '.png')}")

    def no_error(self, where: str) -> None:
        errors = [t.strip() for t in self.page.locator(".message.error").all_text_contents()
                  if t.strip()]
        if errors:
            raise SystemExit(f"{where}: the page shows an error: {errors[0]}")

    def sign_in_as(self, role: str) -> str:
        self.page.goto(self.url + "/")
        button = self.page.locator(f"button.demo-user[data-role='{role}']")
        button.wait_for()
        label = (button.text_content() or "").strip()
        button.click()
        self.page.locator("#who-role").wait_for()
        print(label)
        return label

    def sign_out(self) -> None:
        self.page.click("#sign-out")
        self.page.locator("#login-view").wait_for()


def walk(page: Any, url: str, out: Path) -> None:
    w = Walk(page, url, out)
    w.page.goto(w.url + "/")
    w.page.locator("#demo-users button").first.wait_for()
    w.shot("sign-in")

    w.sign_in_as("employee")
    w.page.locator("li.opportunity, #opportunities .message").first.wait_for()
    w.no_error("employee marketplace")
    titles = w.page.locator(".opportunity-title").all_text_contents()
    print(f"  marketplace: {len(titles)} opportunities, first {titles[:3]}; "
          f"{w.page.locator('.skill .bar').count()} skill bars")
    w.shot("marketplace")
    if not w.page.locator(".plan-button").count():
        # plans need a target role: show the open roles when the top of the list has none
        w.page.select_option("#kinds-select", "open_role")
        w.page.locator(".plan-button").first.wait_for()
    w.page.locator(".plan-button").first.click()
    w.page.locator("#plan .plan-title, #plan .message").first.wait_for()
    w.no_error("development plan")
    print(f"  {w.page.locator('#plan .plan-title').text_content()}: readiness "
          f"{w.page.locator('#plan .readiness').text_content()}, "
          f"{w.page.locator('#plan .gap').count()} gaps")
    w.page.locator("#plan-panel").scroll_into_view_if_needed()
    w.shot("development-plan")
    w.page.click("#nav-paths")
    w.page.locator("li.step, #paths .message, #paths .hint").first.wait_for()
    w.no_error("career paths")
    steps = w.page.locator(".step-title").all_text_contents()
    print(f"  {w.page.locator('#paths-title').text_content()}: {steps[:5]}")
    if steps:
        w.page.locator("li.step .plan-button").first.click()
        w.page.locator("#path-plan .plan-title, #path-plan .message").first.wait_for()
        w.no_error("career-path plan")
    w.shot("career-paths")
    w.page.click("#nav-profile")
    w.page.locator("li.profile-skill, #profile-skills .hint, #profile-skills .message"
                   ).first.wait_for()
    w.no_error("profile")
    print(f"  profile: {w.page.locator('li.profile-skill').count()} skills")
    w.shot("profile")
    w.sign_out()

    w.sign_in_as("manager")
    options = w.page.locator("#subject-select option")
    w.page.locator("#subject-picker").wait_for()
    print(f"  {options.count() - 1} reports to pick from")
    if options.count() > 1:
        report = options.nth(1).get_attribute("value")
        w.page.select_option("#subject-select", report)
        w.page.locator("#market-title", has_text="Opportunities for").wait_for()
        w.page.locator("li.opportunity, #opportunities .message").first.wait_for()
        w.no_error("a report's marketplace")
        print(f"  {w.page.locator('#market-title').text_content()}: "
              f"{w.page.locator('li.opportunity').count()} opportunities")
    w.shot("manager-report")
    # post a project, then its applicants and fairly re-ranked candidates
    w.page.click("#nav-postings")
    w.page.locator("li.posting, #postings .hint, #postings .message").first.wait_for()
    w.no_error("own opportunities")
    w.page.fill("#posting-title", PROJECT)
    w.page.fill("#posting-description", "Two weeks on the finishing line: inspect quality of "
                "products, report defective manufacturing materials and keep records of work "
                "progress.")
    w.page.select_option("#posting-kind", "project")
    w.page.click("#posting-form button[type=submit]")
    w.page.locator("#posting-result", has_text="Posted").wait_for()
    print(f"  {w.page.locator('#posting-result').text_content()}")
    w.shot("manager-opportunities")
    w.page.locator("li.posting", has_text=PROJECT).first.locator(".candidates-button").click()
    w.page.locator("li.candidate, #candidates .message, #candidates .hint").first.wait_for()
    w.no_error("an opening's candidates")
    print(f"  {w.page.locator('#candidates-title').text_content()}: "
          f"{w.page.locator('li.candidate').count()} candidates")
    w.shot("opening-candidates")
    w.sign_out()

    w.sign_in_as("recruiter")
    w.page.locator("li.candidate, #candidates .message, #candidates .hint").first.wait_for()
    w.no_error("recruiter candidates")
    role = w.page.locator("#role-select").input_value()
    print(f"  {w.page.locator('#candidates-title').text_content()} ({role}): "
          f"{w.page.locator('li.candidate').count()} candidates; fairness: "
          f"{' | '.join(w.page.locator('#fairness dd').all_text_contents())}")
    w.shot("recruiter-candidates")
    w.sign_out()

    w.sign_in_as("employee")
    w.page.goto(f"{w.url}/app/#/candidates?role={role}")
    message = w.page.locator("#candidates .message")
    message.wait_for()
    print(f"  an employee opening the recruiter's list: {message.text_content()}")
    w.shot("not-allowed")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", default="http://127.0.0.1:8000")
    parser.add_argument("--out", type=Path, default=Path(tempfile.mkdtemp()))
    parser.add_argument("--chromium", default=shutil.which("chromium") or "/usr/bin/chromium")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=args.chromium, headless=True,
                                             args=ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        page.set_default_timeout(60_000)
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        try:
            walk(page, args.url, args.out)
        finally:
            browser.close()
    if errors:
        print(f"script errors on the page: {errors}", file=sys.stderr)
        return 1
    print("walkthrough: every view shown")
    return 0


if __name__ == "__main__":
    sys.exit(main())

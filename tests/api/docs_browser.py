"""Open the docs pages in Debian's chromium (driven by Playwright, no browser download).

Every request the page makes is watched: one that leaves the service is refused and named,
so a page that needs the network fails instead of quietly rendering half.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import attrs
from playwright.sync_api import Page, Route, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
TIMEOUT_MS = 30_000


@attrs.define
class Seen:
    """What a page showed, and every request that tried to leave the service."""

    texts: list[str] = attrs.Factory(list)
    outside: list[str] = attrs.Factory(list)
    errors: list[str] = attrs.Factory(list)


def _watch(page: Page, base_url: str, seen: Seen) -> None:
    ours = urlsplit(base_url).netloc

    def route(route: Route) -> None:
        url = route.request.url
        if urlsplit(url).netloc == ours or url.startswith("data:"):
            route.continue_()
        else:
            seen.outside.append(url)
            route.abort()

    page.route("**/*", route)
    page.on("pageerror", lambda error: seen.errors.append(str(error)))


def open_pages(base_url: str) -> dict[str, Seen]:
    """Swagger UI's operation paths on ``/docs``; ReDoc's operation entries on ``/redocs``."""
    out: dict[str, Seen] = {"/docs": Seen(), "/redocs": Seen()}
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        try:
            page = browser.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            _watch(page, base_url, out["/docs"])
            page.goto(f"{base_url}/docs")
            page.wait_for_selector(".opblock-summary-path")
            out["/docs"].texts = page.locator(".opblock").all_inner_texts()
            page = browser.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            _watch(page, base_url, out["/redocs"])
            page.goto(f"{base_url}/redocs")
            page.wait_for_selector("[data-section-id^='tag/']")
            out["/redocs"].texts = page.locator("[data-section-id*='operation/']").evaluate_all(
                "els => els.map(e => e.getAttribute('data-section-id'))"
            )
        finally:
            browser.close()
    return out

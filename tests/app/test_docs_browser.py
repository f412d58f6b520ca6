"""`/docs` in a real browser on a network with no way out: Swagger UI comes from the installed package, so
the page renders every operation with every request to another host refused."""

import os
from pathlib import Path

import pytest

from tests.support import IN_CI, Backend

CHROMIUM = Path("/usr/bin/chromium")


def browser_or_skip():  # type: ignore[no-untyped-def]
    if not CHROMIUM.exists():
        if IN_CI:
            pytest.fail("Debian's chromium is required in CI (apt-get install chromium)")
        pytest.skip("chromium not installed")
    from playwright.sync_api import sync_playwright

    return sync_playwright()


def test_docs_render_offline(sqlite_backend: Backend) -> None:
    base = sqlite_backend.server.base_url
    outside: list[str] = []
    with browser_or_skip() as p:
        args = ["--no-sandbox"] if os.geteuid() == 0 else []
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=args)
        try:
            page = browser.new_page()

            def only_this_server(route) -> None:  # type: ignore[no-untyped-def]
                if route.request.url.startswith(base):
                    route.continue_()
                else:  # a broadcast facility's network: nothing else answers
                    outside.append(route.request.url)
                    route.abort()

            page.route("**/*", only_this_server)
            page.goto(base + "/docs")
            page.wait_for_selector(".swagger-ui .info .title", timeout=15_000)
            assert "feedgate" in page.inner_text(".swagger-ui .info .title")
            page.wait_for_selector(".opblock", timeout=15_000)
            assert page.locator(".opblock").count() > 40
        finally:
            browser.close()
    assert outside == []

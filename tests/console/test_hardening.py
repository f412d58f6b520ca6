"""The console against another site: never framed, never cached, never sniffed; sign-in needs the form's own
CSRF token; forwarded addresses are believed only from configured proxies; the runtime directory is private."""

import os
import stat
import subprocess
import sys
from pathlib import Path

import httpx

from tests.support import Backend, console_login, free_port


def test_console_pages_refuse_framing_caching_and_sniffing(backend: Backend) -> None:
    r = httpx.get(backend.server.base_url + "/console/login")
    assert r.status_code == 200
    assert r.headers["content-security-policy"] == "frame-ancestors 'none'"
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["cache-control"] == "no-store"
    api = httpx.get(backend.server.base_url + "/healthz")
    assert api.headers["x-content-type-options"] == "nosniff" and "x-frame-options" not in api.headers


def test_sign_in_needs_the_forms_own_csrf_token(backend: Backend) -> None:
    api = backend.new_user("csrf")
    base = backend.server.base_url
    # Login CSRF: another site posts the form with the attacker's credentials, without the victim's token.
    forged = httpx.post(base + "/console/login", data={"user_id": api.user_id, "api_key": api.api_key},
                        follow_redirects=False)
    assert forged.status_code == 403 and "feedgate_console" not in forged.headers.get("set-cookie", "")
    with httpx.Client(base_url=base, follow_redirects=False) as web:
        web.get("/console/login")  # a token in the cookie, but a different one in the form
        wrong = web.post("/console/login", data={"user_id": api.user_id, "api_key": api.api_key, "csrf": "x" * 32})
        assert wrong.status_code == 403
        right = console_login(web, api.user_id, api.api_key)
        assert right.status_code == 303 and right.headers["location"] == "/console"


def test_a_runtime_directory_someone_else_could_write_is_refused(tmp_path: Path) -> None:
    runtime = tmp_path / "run"
    runtime.mkdir()
    database = tmp_path / "f.db"
    env = {**os.environ, "XDG_RUNTIME_DIR": str(runtime), "FEEDGATE_DATABASE_URL": f"sqlite:///{database}",
           "FEEDGATE_PORT": str(free_port())}
    from feedgate.kit.migrate import upgrade
    from feedgate.kit.peers import runtime_dir

    upgrade(env["FEEDGATE_DATABASE_URL"])
    os.environ["XDG_RUNTIME_DIR"] = str(runtime)
    try:
        made = runtime_dir(env["FEEDGATE_DATABASE_URL"])
    finally:
        del os.environ["XDG_RUNTIME_DIR"]
    assert made.parent == runtime and stat.S_IMODE(made.stat().st_mode) == 0o700
    made.chmod(0o777)  # as if another local user had made it first, open to all
    feedgate = str(Path(sys.executable).parent / "feedgate")
    serve = subprocess.run([feedgate, "serve"], env=env, capture_output=True, text=True, timeout=60)
    assert serve.returncode != 0
    assert "not a private directory" in serve.stderr and str(made) in serve.stderr


"""The honest HTTP baseline: a bare async FastAPI route, served by this venv's uvicorn (httptools, uvloop).

Every HTTP figure in docs/performance.md is a ratio against this, measured in the same run.
"""

import contextlib
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
from fastapi import FastAPI, Request

app = FastAPI()


@app.get("/")
async def root() -> dict[str, bool]:
    return {"ok": True}


@app.post("/upload")
async def upload(request: Request) -> dict[str, int]:
    """The floor for a large body: received whole, and nothing done with it."""
    return {"bytes": len(await request.body())}


@contextlib.contextmanager
def baseline_server() -> Iterator[str]:
    """Start the bare app on a free port; yield its base URL."""
    from tests.support import free_port

    port = free_port()
    proc = subprocess.Popen([sys.executable, "-m", "uvicorn", "benchmarks._baseline:app", "--port", str(port),
                             "--http", "httptools", "--loop", "uvloop", "--no-access-log", "--log-level", "warning"])
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(url + "/", timeout=1).status_code == 200:
                    break
            time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)

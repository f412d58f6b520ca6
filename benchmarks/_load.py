"""Load from a second process: wrk (Debian package `wrk`) when present, else a threaded httpx client.

Requests are signed up front: a signature stays valid for the ±300 s window, so a short run can
replay a pool of signed requests, the way a busy player fleet would look to the server.
"""

import json
import random
import re
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx

Request = tuple[str, str, Any]  # method, path with query, JSON body or None


def _lua(requests: list[Request]) -> str:
    def quote(text: str) -> str:
        return "[==[" + text + "]==]"

    rows = ",\n".join(
        "{" + ", ".join([quote(m), quote(p), quote(json.dumps(b)) if b is not None else "nil"]) + "}"
        for m, p, b in requests
    )
    return f"""
local reqs = {{
{rows}
}}
local headers = {{["Content-Type"] = "application/json"}}
local n = 0
request = function()
  n = n + 1
  local r = reqs[(n % #reqs) + 1]
  return wrk.format(r[1], r[2], headers, r[3])
end
local bad = 0
response = function(status, headers, body)
  if status >= 400 then bad = bad + 1 end
end
done = function(summary, latency, requests)
  io.write(string.format("BAD %d\\n", bad))
  io.write(string.format("P50 %d\\nP99 %d\\nMAX %d\\n", latency:percentile(50), latency:percentile(99), latency.max))
end
"""


def rate(base_url: str, requests: list[Request], seconds: float, connections: int = 32) -> dict[str, float]:
    """Requests per second (and latency percentiles in ms with wrk); any 4xx/5xx fails the run."""
    if shutil.which("wrk"):
        script = Path(tempfile.mkdtemp()) / "load.lua"
        script.write_text(_lua(requests))
        command = ["wrk", "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "-s", str(script), base_url]
        out = subprocess.run(command, capture_output=True, text=True, check=True).stdout
        bad = int(re.search(r"BAD (\d+)", out).group(1))  # type: ignore[union-attr]
        if bad:
            raise RuntimeError(f"{bad} requests failed during the load run")
        return {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),  # type: ignore[union-attr]
                "p50_ms": int(re.search(r"P50 (\d+)", out).group(1)) / 1000,  # type: ignore[union-attr]
                "p99_ms": int(re.search(r"P99 (\d+)", out).group(1)) / 1000,  # type: ignore[union-attr]
                "max_ms": int(re.search(r"MAX (\d+)", out).group(1)) / 1000}  # type: ignore[union-attr]
    stop = time.perf_counter() + seconds
    counts = []

    def worker(seed: int) -> int:
        rng, done = random.Random(seed), 0
        with httpx.Client(base_url=base_url, timeout=10) as client:
            while time.perf_counter() < stop:
                method, path, body = rng.choice(requests)
                r = client.request(method, path, json=body)
                if r.status_code >= 400:
                    raise RuntimeError(f"{method} {path}: {r.status_code} {r.text}")
                done += 1
        return done

    started = time.perf_counter()
    with ThreadPoolExecutor(min(connections, 8)) as pool:
        counts = list(pool.map(worker, range(min(connections, 8))))
    return {"rps": sum(counts) / (time.perf_counter() - started)}

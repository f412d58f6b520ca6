"""The monitoring kit (deploy/): the fleet's series on /metrics, the alert rules under promtool, a real
Prometheus that scrapes a real feedgate and sees alerts fire on a real failover, and a dashboard whose
every query names a series feedgate serves."""

import contextlib
import json
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.support import IN_CI, Api, active, free_port, heartbeating, serve_http, started_backend, wait_for

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        if IN_CI:
            pytest.fail(f"{name} is required in CI (apt-get install prometheus)")
        pytest.skip(f"{name} not installed")
    return path


def samples(base_url: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    text = httpx.get(base_url + "/metrics", timeout=5).text
    found: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for s in family.samples:
            found.setdefault(s.name, []).append((s.labels, s.value))
    return found


def of_group(found: dict[str, list[tuple[dict[str, str], float]]], name: str, group_id: str) -> dict[str, float]:
    """A series' values for one group, keyed by its other distinguishing label (slicer, state) or ''."""
    out = {}
    for labels, value in found.get(name, []):
        if labels.get("group_id") == group_id:
            out[labels.get("slicer", labels.get("state", ""))] = value
    return out


def test_the_alert_rules_pass_promtool(tmp_path: Path) -> None:
    promtool = tool("promtool")
    check = subprocess.run([promtool, "check", "rules", "alerts.yml"], cwd=DEPLOY / "prometheus",
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    unit = subprocess.run([promtool, "test", "rules", "alerts_test.yml"], cwd=DEPLOY / "prometheus",
                          capture_output=True, text=True)
    assert unit.returncode == 0, unit.stdout + unit.stderr
    # The unit tests can fail: a rule that no longer fires as they expect is caught.
    broken = tmp_path / "alerts.yml"
    broken.write_text((DEPLOY / "prometheus" / "alerts.yml").read_text().replace(
        "feedgate_group_no_candidate == 1", "feedgate_group_no_candidate == 2"))
    shutil.copy(DEPLOY / "prometheus" / "alerts_test.yml", tmp_path / "alerts_test.yml")
    failing = subprocess.run([promtool, "test", "rules", "alerts_test.yml"], cwd=tmp_path, capture_output=True,
                             text=True)
    assert failing.returncode != 0 and "FeedgateGroupNoCandidate" in failing.stdout + failing.stderr


def test_metrics_show_the_fleet_and_follow_a_failover(tmp_path: Path) -> None:
    with started_backend("sqlite", f"sqlite:///{tmp_path / 'm.db'}") as b:
        api = b.new_user()
        g = api.make_group("News", heartbeat_timeout_ms=600, clear_after_ms=300)
        with heartbeating(api, g["id"], {"news01": {}, "news02": {}}) as slicers:
            wait_for(lambda: active(api, g["id"]) == "news01")
            wait_for(lambda: of_group(samples(b.server.base_url), "feedgate_group_healthy_standbys", g["id"])
                     == {"": 1.0})
            found = samples(b.server.base_url)
            assert of_group(found, "feedgate_group_on_air_info", g["id"]) == {"news01": 1.0}
            assert of_group(found, "feedgate_group_slicers", g["id"]) == {"healthy": 2, "unhealthy": 0, "offline": 0}
            assert of_group(found, "feedgate_slicer_healthy", g["id"]) == {"news01": 1, "news02": 1}
            ages = of_group(found, "feedgate_slicer_heartbeat_age_seconds", g["id"])
            assert set(ages) == {"news01", "news02"} and all(0 <= a < 1 for a in ages.values())
            assert of_group(found, "feedgate_group_no_candidate", g["id"]) == {"": 0}
            slicers["news01"] = None
            wait_for(lambda: active(api, g["id"]) == "news02")
            time.sleep(0.3)
            found = samples(b.server.base_url)
            assert of_group(found, "feedgate_group_on_air_info", g["id"]) == {"news02": 1.0}
            assert of_group(found, "feedgate_slicer_healthy", g["id"]) == {"news01": 0, "news02": 1}
            assert of_group(found, "feedgate_group_healthy_standbys", g["id"]) == {"": 0}
            assert of_group(found, "feedgate_slicer_heartbeat_age_seconds", g["id"])["news01"] > 0.6
            failovers = {(s["kind"], s["cause"]): v for s, v in found["feedgate_failovers_total"]}
            assert failovers[("failover", "silence")] == 1 and failovers[("failover", "first_pick")] == 1
            slicers["news02"] = None
            wait_for(lambda: of_group(samples(b.server.base_url), "feedgate_group_no_candidate", g["id"])
                     == {"": 1.0})


def test_per_slicer_series_can_be_turned_off(tmp_path: Path) -> None:
    with started_backend("sqlite", f"sqlite:///{tmp_path / 'm.db'}", FEEDGATE_METRICS_PER_SLICER="false") as b:
        api = b.new_user()
        g = api.make_group("News")
        with heartbeating(api, g["id"], {"news01": {}}):
            wait_for(lambda: active(api, g["id"]) == "news01")
            found = samples(b.server.base_url)
        assert of_group(found, "feedgate_group_on_air_info", g["id"]) == {"news01": 1.0}
        assert not [name for name in found if name.startswith("feedgate_slicer_")]


@contextlib.contextmanager
def prometheus(target: str) -> Iterator[str]:
    binary = tool("prometheus")
    work = Path(tempfile.mkdtemp(prefix="feedgate-prom-"))
    shutil.copy(DEPLOY / "prometheus" / "alerts.yml", work / "alerts.yml")
    (work / "prometheus.yml").write_text(json.dumps({  # JSON is YAML
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": ["alerts.yml"],
        "scrape_configs": [{"job_name": "feedgate", "static_configs": [{"targets": [target]}]}]}))
    port = free_port()
    log = (work / "log").open("w")
    proc = subprocess.Popen([binary, f"--config.file={work / 'prometheus.yml'}", f"--storage.tsdb.path={work / 'data'}",
                             f"--web.listen-address=127.0.0.1:{port}"], stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: _ready(url), timeout=30)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)
        log.close()
        shutil.rmtree(work, ignore_errors=True)


def _ready(url: str) -> bool:
    with contextlib.suppress(httpx.HTTPError):
        return httpx.get(url + "/-/ready", timeout=1).status_code == 200
    return False


def firing(url: str) -> dict[str, list[dict[str, Any]]]:
    alerts = httpx.get(url + "/api/v1/alerts", timeout=5).json()["data"]["alerts"]
    out: dict[str, list[dict[str, Any]]] = {}
    for a in alerts:
        if a["state"] == "firing":
            out.setdefault(a["labels"]["alertname"], []).append(a["labels"])
    return out


def test_a_real_prometheus_sees_the_alerts_fire_on_a_real_failover(tmp_path: Path) -> None:
    with started_backend("sqlite", f"sqlite:///{tmp_path / 'p.db'}") as b:
        api: Api = b.new_user()
        g = api.make_group("News", heartbeat_timeout_ms=600, clear_after_ms=300)
        with heartbeating(api, g["id"], {"news01": {}, "news02": {}}) as slicers, \
                prometheus(b.server.base_url.removeprefix("http://")) as prom:
            wait_for(lambda: active(api, g["id"]) == "news01")
            wait_for(lambda: httpx.get(prom + "/api/v1/query", params={"query": "up{job=\"feedgate\"} == 1"},
                                       timeout=5).json()["data"]["result"], timeout=20)
            time.sleep(3)  # a few scrapes with the counters at their value before the failure
            assert "FeedgateFailedOver" not in firing(prom)
            assert "FeedgateGroupNoCandidate" not in firing(prom)
            slicers["news01"] = None
            wait_for(lambda: active(api, g["id"]) == "news02")
            fired = wait_for(lambda: firing(prom).get("FeedgateFailedOver"), timeout=30)
            assert fired[0]["cause"] == "silence"
            slicers["news02"] = None
            fired = wait_for(lambda: firing(prom).get("FeedgateGroupNoCandidate"), timeout=30)
            assert fired[0]["group_id"] == g["id"] and fired[0]["group"] == "News"


def test_the_dashboard_queries_only_series_feedgate_serves(tmp_path: Path) -> None:
    board = json.loads((DEPLOY / "grafana" / "feedgate.json").read_text())
    exprs = [t["expr"] for p in board["panels"] for t in p.get("targets", [])]
    assert len(exprs) >= 8
    named = {m for e in exprs for m in re.findall(r"\b(feedgate_[a-z_]+?)(?:_bucket|_count|_sum)?\b", e)}
    class Playlist(BaseHTTPRequestHandler):  # a slicer's HLS playlist that never moves
        def do_GET(self) -> None:
            body = b"#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:1\n#EXTINF:2,\nseg1.ts\n"
            self.send_response(200)
            self.send_header("Content-Type", "application/vnd.apple.mpegurl")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *_: Any) -> None:
            pass

    origin, port = serve_http(Playlist)
    try:
        with started_backend("sqlite", f"sqlite:///{tmp_path / 'd.db'}") as b:
            api = b.new_user()
            g = api.make_group("News")
            hls = f"http://127.0.0.1:{port}/news01.m3u8"
            assert api.heartbeat("news01", g["id"], hls_url=hls).status_code == 200
            wait_for(lambda: "feedgate_slicer_playlist_stale_seconds" in samples(b.server.base_url), timeout=20)
            served = {re.sub(r"_(bucket|count|sum|total|created)$", "", n) for n in samples(b.server.base_url)}
    finally:
        origin.shutdown()
    missing = {n for n in named if re.sub(r"_total$", "", n) not in served}
    assert missing == set(), f"the dashboard queries series feedgate does not serve: {sorted(missing)}"

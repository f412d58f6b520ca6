"""`feedgate scte224` as an operator runs it: a subprocess against the real server, a file and a URL."""

import json
import os
import subprocess
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from tests.support import FEEDGATE, Api, serve_http
from tests.support.rights import by_external, document


def feedgate(api: Api, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FEEDGATE_URL": api.base_url, "FEEDGATE_USER_ID": api.user_id,
           "FEEDGATE_API_KEY": api.api_key, "COLUMNS": "200"}
    return subprocess.run([FEEDGATE, "scte224", *args], env=env, capture_output=True, text=True, timeout=120)


def test_import_a_file_dry_run_then_for_real_then_export(api: Api, tmp_path: Path) -> None:
    ch = api.make_channel()
    path = tmp_path / "rights.xml"
    path.write_text(document("NOT-A-CHANNEL"))
    refused = feedgate(api, "import", str(path), "--dry-run")
    assert refused.returncode == 1 and "would be refused" in refused.stderr and "media/news" in refused.stdout
    dry = feedgate(api, "import", str(path), "--dry-run", "--json", "--channel-map", f"media/news={ch['id']}")
    assert dry.returncode == 0, dry.stderr
    diff = json.loads(dry.stdout)
    assert diff["dry_run"] and diff["summary"]["created"] > 0 and by_external(api, "/audiences") == {}
    done = feedgate(api, "import", str(path), "--channel-map", f"media/news={ch['id']}")
    assert done.returncode == 0, done.stderr
    assert "created" in done.stdout and "aud/us" in done.stdout
    assert set(by_external(api, "/audiences")) == {"aud/us", "aud/devices", "aud/phones", "aud/east"}
    listed = feedgate(api, "imports", "--json")
    assert [i["source"] for i in json.loads(listed.stdout)] == ["api"]
    out = tmp_path / "export.xml"
    exported = feedgate(api, "export", ch["id"], "-o", str(out))
    assert exported.returncode == 0 and out.read_bytes().startswith(b"<?xml")
    again = feedgate(api, "import", str(out), "--dry-run", "--json")
    assert json.loads(again.stdout)["changed"] is False  # the export reads back to the same state


def test_import_a_url_and_name_a_missing_file(api: Api, tmp_path: Path) -> None:
    api.make_channel(external_id="URLFED")
    body = document("URLFED").encode()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: Any) -> None:
            pass

    server, port = serve_http(Handler)
    try:
        done = feedgate(api, "import", f"http://127.0.0.1:{port}/rights.xml", "--json")
    finally:
        server.shutdown()
        server.server_close()
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["changed"] is True
    missing = feedgate(api, "import", str(tmp_path / "nope.xml"))
    assert missing.returncode == 1 and "nope.xml" in missing.stderr and "Traceback" not in missing.stderr

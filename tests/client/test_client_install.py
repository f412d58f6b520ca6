"""The Python client needs only its own dependencies: in a fresh virtual environment holding nothing but
the package's base dependencies (pyproject's `dependencies`, no `server` extra), `feedgate.client` imports
and drives a real server, and no part of the server stack is loaded."""

import json
import subprocess
import tomllib
import venv
from pathlib import Path

import pytest

from tests.support import IN_CI, ROOT, Backend

SCRIPT = """
import sys
from feedgate.client import FeedgateClient, FeedgateError
with FeedgateClient(sys.argv[1], sys.argv[2], sys.argv[3]) as fg:
    group = fg.create_group("from a bare venv")
    channel = fg.create_channel("bare")
    fg.change_channels(group.id, add=[channel.id])
    listed = [g.id for g in fg.list_groups()]
    decision = fg.playback(channel.id, country="US")
    member_channel = fg.get_group(group.id).channels[0].id
    try:
        fg.get_group("nope")
        missing = None
    except FeedgateError as exc:
        missing = exc.status
heavy = sorted(m for m in ("fastapi", "starlette", "sqlalchemy", "uvicorn", "alembic", "psycopg")
               if m in sys.modules)
import json
print(json.dumps({"group": group.id, "channel": channel.id, "listed": listed, "channel_in_group": member_channel,
                  "decision": decision.content.type, "missing": missing, "heavy": heavy}))
"""


@pytest.fixture(scope="module")
def bare_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("bare-venv")
    venv.create(folder, with_pip=True)
    python = folder / "bin" / "python"
    requirements = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    done = subprocess.run([str(python), "-m", "pip", "install", "--quiet", *requirements], capture_output=True,
                          text=True, timeout=600)
    if done.returncode != 0:
        if IN_CI:
            pytest.fail(f"pip could not install the client's dependencies: {done.stderr[-2000:]}")
        pytest.skip(f"no package index here: {done.stderr[-300:]}")
    return python


def test_the_client_runs_with_its_own_dependencies_only(bare_python: Path, sqlite_backend: Backend) -> None:
    api = sqlite_backend.new_user("bare")
    import_server = subprocess.run([str(bare_python), "-c", "import fastapi"], capture_output=True)
    assert import_server.returncode != 0, "the bare environment must not have the server stack"
    done = subprocess.run([str(bare_python), "-c", SCRIPT, api.base_url, api.user_id, api.api_key],
                          capture_output=True, text=True, timeout=120, env={"PYTHONPATH": str(ROOT / "src")})
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["group"] in result["listed"]
    assert result["channel_in_group"] == result["channel"]
    assert result["decision"] == "channel"
    assert result["missing"] == 404
    assert result["heavy"] == []

"""The shipped systemd units pass `systemd-analyze verify` (with ExecStart pointed at this venv's feedgate)."""

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.support import FEEDGATE, IN_CI

UNITS = Path(__file__).resolve().parents[2] / "deploy" / "systemd"


@pytest.mark.parametrize("unit", sorted(p.name for p in UNITS.glob("*.service")))
def test_the_systemd_unit_verifies(unit: str, tmp_path: Path) -> None:
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        if IN_CI:
            pytest.fail("systemd-analyze is required in CI (apt-get install systemd)")
        pytest.skip("systemd-analyze not installed")
    text = (UNITS / unit).read_text()
    assert "/opt/feedgate/.venv/bin/feedgate" in text
    for other in UNITS.glob("*"):
        (tmp_path / other.name).write_text(other.read_text().replace("/opt/feedgate/.venv/bin/feedgate",
                                                                     str(FEEDGATE)))
    done = subprocess.run([analyze, "verify", str(tmp_path / unit)], capture_output=True, text=True)
    assert done.returncode == 0 and "error" not in done.stderr.lower(), done.stderr
    # It can fail: a misspelt directive is reported.
    (tmp_path / "broken.service").write_text(text.replace("ExecStart=", "ExecStrat="))
    broken = subprocess.run([analyze, "verify", str(tmp_path / "broken.service")], capture_output=True, text=True)
    assert "ExecStrat" in broken.stderr

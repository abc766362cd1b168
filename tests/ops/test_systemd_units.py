"""The unit files in systemd/ pass ``systemd-analyze verify``."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

UNIT_DIR = Path(__file__).resolve().parents[2] / "systemd"
UNITS = ("syncd.service", "syncd.timer", "syncd-daemon.service")
INSTALLED_PATH = "/usr/local/bin/syncd"


def install_systemd_analyze() -> str | None:
    """Return the path of systemd-analyze, installing Debian's systemd package if needed."""

    found = shutil.which("systemd-analyze")
    if found or shutil.which("apt-get") is None or os.geteuid() != 0:
        return found
    environment = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    command = ["apt-get", "install", "-y", "--no-install-recommends", "systemd"]
    if subprocess.run(command, env=environment, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update"], env=environment, capture_output=True)
        subprocess.run(command, env=environment, capture_output=True)
    return shutil.which("systemd-analyze")


@pytest.fixture(scope="module")
def systemd_analyze() -> str:
    path = install_systemd_analyze()
    if path is None:
        pytest.skip(
            "systemd-analyze is missing and could not be installed "
            "(needs root and apt-get with Debian's systemd package)"
        )
    return path


@pytest.fixture
def unit_copies(tmp_path) -> list[Path]:
    """Copy the units, pointing ExecStart at this environment's syncd script.

    verify rejects a unit whose ExecStart binary does not exist, and the units
    name the installed path.
    """

    syncd_script = Path(sys.executable).parent / "syncd"
    assert syncd_script.exists(), f"{syncd_script} missing: install the package first"
    copies = []
    for name in UNITS:
        text = (UNIT_DIR / name).read_text()
        copy = tmp_path / name
        copy.write_text(text.replace(INSTALLED_PATH, str(syncd_script)))
        copies.append(copy)
    return copies


def test_units_pass_verify(systemd_analyze, unit_copies):
    result = subprocess.run(
        [systemd_analyze, "verify", *map(str, unit_copies)],
        capture_output=True,
        text=True,
        env={**os.environ, "SYSTEMD_LOG_COLOR": "0"},
    )
    assert result.returncode == 0, result.stderr

    # verify exits 0 for unknown keys and bad values, but reports them.
    assert result.stderr.strip() == ""
    assert result.stdout.strip() == ""


def test_units_name_installed_path():
    for name in ("syncd.service", "syncd-daemon.service"):
        assert f"ExecStart={INSTALLED_PATH} " in (UNIT_DIR / name).read_text()


@pytest.mark.parametrize("name", ["syncd.service", "syncd-daemon.service"])
def test_services_are_sandboxed(name):
    lines = set((UNIT_DIR / name).read_text().splitlines())
    for setting in (
        "DynamicUser=yes",
        "StateDirectory=syncd",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "NoNewPrivileges=yes",
        "PrivateTmp=yes",
        "CapabilityBoundingSet=",
    ):
        assert setting in lines
    assert any(line.startswith("LoadCredential=") for line in lines)


def test_daemon_unit_uses_notify_and_watchdog():
    lines = set((UNIT_DIR / "syncd-daemon.service").read_text().splitlines())
    assert "Type=notify" in lines
    assert any(line.startswith("WatchdogSec=") for line in lines)
    assert "ExecReload=/bin/kill -HUP $MAINPID" in lines


def test_timer_is_persistent_and_randomized():
    lines = set((UNIT_DIR / "syncd.timer").read_text().splitlines())
    assert "Persistent=true" in lines
    assert any(line.startswith("OnCalendar=") for line in lines)
    assert any(line.startswith("RandomizedDelaySec=") for line in lines)


def test_security_exposure_is_low(systemd_analyze, unit_copies):
    # The threshold is in tenths, so 20 fails an exposure above 2.0 on the 0-10
    # scale that the command prints. ``--offline`` needs systemd 250 or newer.
    for copy in unit_copies:
        if copy.suffix != ".service":
            continue
        result = subprocess.run(
            [systemd_analyze, "security", "--offline=yes", "--threshold=20", str(copy)],
            capture_output=True,
            text=True,
        )
        if "Unknown option" in result.stderr or "unrecognized option" in result.stderr:
            pytest.skip("systemd-analyze security --offline needs systemd 250 or newer")
        assert result.returncode == 0, result.stdout[-2000:] + result.stderr

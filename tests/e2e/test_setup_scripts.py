"""The set-up scripts `make test` stands on: the Debian package list and the throwaway PostgreSQL.

They are run here as a newcomer's `make test` runs them: as root and as an ordinary user, with
real packages and a real PostgreSQL cluster."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(argv, *, user: str | None = None, env=None, cwd=ROOT):
    if user:
        argv = ["runuser", "-u", user, "--", *argv]
    return subprocess.run(
        argv, cwd=cwd, env=env, capture_output=True, text=True, check=False, timeout=120
    )


@pytest.fixture
def package_tree():
    """A copy of the installer beside a package list of the test's own, readable by nobody."""
    with tempfile.TemporaryDirectory(prefix="arrow-pkgs-") as top:
        yield _package_tree(Path(top))


def _package_tree(tmp_path: Path):
    (tmp_path / "scripts").mkdir()
    (tmp_path / "requirements").mkdir()
    shutil.copy(ROOT / "scripts" / "system-packages.sh", tmp_path / "scripts")
    tmp_path.chmod(0o755)

    def write(lines: str) -> Path:
        (tmp_path / "requirements" / "system.txt").write_text(lines)
        return tmp_path / "scripts" / "system-packages.sh"

    return write


def test_every_package_make_test_needs_is_installed_and_says_nothing():
    out = run(["bash", "scripts/system-packages.sh", "test"])
    assert (out.returncode, out.stdout, out.stderr) == (0, "", "")


def test_a_user_who_is_not_root_is_told_the_exact_apt_get_line(package_tree):
    script = package_tree("# comment\nbash  test\narrow-no-such-package  test image\nzstd  bench\n")
    out = run(["bash", str(script), "test"], user="nobody")
    assert out.returncode == 1
    assert (
        "apt-get update && apt-get install -y --no-install-recommends arrow-no-such-package"
        in out.stderr
    )
    assert "bash" not in out.stderr.split("recommends", 1)[1]  # installed: not asked for


def test_a_target_no_line_names_is_an_error(package_tree):
    out = run(["bash", str(package_tree("bash  test\n")), "tset"])
    assert out.returncode == 2
    assert "no package" in out.stderr


def test_testdb_runs_a_command_on_its_own_cluster_and_removes_it():
    probe = "import os; print(os.environ['DATABASE_URL'], os.environ['ARROW_EXPECT_POSTGRES'])"
    out = run(["bash", "scripts/testdb.sh", "run", sys.executable, "-c", probe])
    assert out.returncode == 0, out.stderr
    url, expect = out.stdout.split()
    assert expect == "1"
    assert url.startswith("postgres://arrow@127.0.0.1:")
    datadir = out.stderr.split("(")[-1].split(")")[0]
    assert datadir.startswith(("/tmp/", os.environ.get("TMPDIR", "/tmp")))
    assert not Path(datadir).exists()  # stopped and removed
    port = url.rsplit(":", 1)[1].split("/")[0]
    assert run(["pg_isready", "-h", "127.0.0.1", "-p", port]).returncode != 0


def test_testdb_passes_the_command_status_through():
    out = run(["bash", "scripts/testdb.sh", "run", "bash", "-c", "exit 7"])
    assert out.returncode == 7


def test_a_run_meant_for_postgresql_stops_at_once_on_sqlite(tmp_path):
    env = {
        **os.environ,
        "ARROW_EXPECT_POSTGRES": "1",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }
    out = run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "tests/unit"], env=env
    )
    assert out.returncode == 4, out.stdout + out.stderr
    assert "meant for PostgreSQL" in out.stderr
    assert "passed" not in out.stdout

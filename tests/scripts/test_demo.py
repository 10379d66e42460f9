"""The `make demo` script, run as a user runs it, on a small generated org."""

from __future__ import annotations

import os
import re
import subprocess
import sys

from tests.conftest import REPO_ROOT


class TestDemo:
    def test_demo_loads_the_emulator_count(self, tmp_path):
        env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW")}
        result = subprocess.run(
            [sys.executable, str(REPO_ROOT / "include" / "scripts" / "demo.py"), "--jobs", "300",
             "--work-dir", str(tmp_path / "demo")],
            capture_output=True, text=True, env=env, timeout=600,
        )  # fmt: skip
        assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
        match = re.search(r": (\d+) jobs .* countJobs reports (\d+)\.", result.stdout)
        assert match, result.stdout
        assert match.group(1) == match.group(2)
        assert "AIRFLOW_CONN_CHARTHOP_DEFAULT" in result.stdout

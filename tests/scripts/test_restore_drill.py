"""scripts/restore_drill.py: pg_dump, pg_restore into a new database, and the copy checked."""

import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_restore_drill_passes_on_the_embedded_server():
    began = time.monotonic()
    drill = subprocess.run(
        [sys.executable, "scripts/restore_drill.py"], cwd=ROOT, capture_output=True, text=True, timeout=180
    )
    assert drill.returncode == 0, drill.stdout + drill.stderr
    output = drill.stdout
    assert "differing: none" in output
    for what in ("constraints", "indexes", "triggers", "functions", "sequences", "extensions"):
        assert f"{what}: " in output and ", 0 differ" in output.split(f"{what}: ")[1].splitlines()[0]
    assert output.count(": yes") == 8  # the named objects present, and every check on the copy
    assert "Restore drill passed" in output
    assert time.monotonic() - began < 60

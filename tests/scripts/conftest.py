import importlib.util
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def load_script(monkeypatch):
    """A script of scripts/ loaded afresh as a module; they import each other by name."""
    monkeypatch.syspath_prepend(str(ROOT / "scripts"))

    def load(name: str):
        spec = importlib.util.spec_from_file_location(f"{name}_script", ROOT / "scripts" / f"{name}.py")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return module

    return load


@pytest.fixture
def run_on_own_database(load_script):
    """Run scripts/<script>.py with `arguments` plus --database <a fresh name> on the test
    run's server (DATABASE_URL or the embedded one), dropping that database afterwards."""
    dev = load_script("dev")

    def run(script: str, arguments: list[str], *, timeout: float) -> subprocess.CompletedProcess:
        base_url = dev.database_url()
        name = f"{dev.database_name(base_url)}_{script}_{secrets.token_hex(3)}"
        try:
            return subprocess.run(
                [sys.executable, f"scripts/{script}.py", *arguments, "--database", name],
                cwd=ROOT,
                env={**os.environ, "DATABASE_URL": base_url},
                capture_output=True,
                text=True,
                timeout=timeout,
            )
        finally:
            dev.drop_database(dev.with_database(base_url, name), base_url=base_url)

    return run

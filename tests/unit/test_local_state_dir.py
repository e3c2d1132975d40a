"""Where the local stack records itself: one per-user place, overridable."""

from __future__ import annotations

from pathlib import Path

from patron.local import state_dir, state_file


def test_the_state_dir_is_per_user_and_not_the_current_directory(monkeypatch, tmp_path):
    # Given no override and no XDG_STATE_HOME, in some working directory
    for name in ("PATRON_STATE_DIR", "PATRON_HOME", "XDG_STATE_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    # Then the record lives under ~/.local/state/patron, whatever the directory
    assert state_file() == tmp_path / "home" / ".local" / "state" / "patron" / "local.json"
    # And XDG_STATE_HOME moves it, as the XDG base directories say
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    assert state_dir() == tmp_path / "xdg" / "patron"


def test_patron_state_dir_overrides_it(monkeypatch, tmp_path):
    # Given PATRON_STATE_DIR (and XDG_STATE_HOME, which it wins over)
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("PATRON_STATE_DIR", str(tmp_path / "mine"))
    # Then the record is there
    assert state_file() == Path(tmp_path / "mine" / "local.json")

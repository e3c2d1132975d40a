"""Files a newcomer can find their way in: no Python file of the deployed package or the CLI
grows past 600 lines (split it by responsibility instead)."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIMIT = 600


def long_files(base: Path, *dirs: str, limit: int = LIMIT) -> dict[str, int]:
    """Python files under `base/dir` (build output under .chalice left out) longer than `limit`."""
    found = {}
    for d in dirs:
        for path in (base / d).rglob("*.py"):
            name = str(path.relative_to(base))
            if ".chalice" not in path.parts:
                lines = len(path.read_text().splitlines())
                if lines > limit:
                    found[name] = lines
    return found


def test_no_python_file_in_functions_or_src_is_over_600_lines():
    # Given the deployed package (functions/) and the CLI, local stack and benches (src/)
    # When every Python file's lines are counted
    too_long = long_files(ROOT, "functions", "src")
    # Then none is over the limit
    assert too_long == {}


def test_the_check_names_a_file_over_the_limit(tmp_path):
    # Given a file of 601 lines and one of 600 (the check must be able to fail)
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "big.py").write_text("x = 1\n" * 601)
    (tmp_path / "pkg" / "fits.py").write_text("x = 1\n" * 600)
    # When the check runs on that tree, Then it names only the long one, with its length
    assert long_files(tmp_path, "pkg") == {"pkg/big.py": 601}

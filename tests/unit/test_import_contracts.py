"""One-way dependencies: import-linter's contracts (pyproject.toml, `[tool.importlinter]`),
which `make lint` also runs. Imports inside functions count; the whole package tree is read
(`domain/messaging` included)."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = ROOT / "pyproject.toml"


def lint_imports(config: Path) -> int:
    """import-linter's exit code for a config, run apart: its logging set-up would disable
    the loggers of the tests that run after it in this process."""
    command = [str(Path(sys.executable).parent / "lint-imports"), "--config", str(config), "--no-cache"]
    return subprocess.run(command, cwd=ROOT, capture_output=True, check=False).returncode


def contracts() -> list[dict]:
    return tomllib.loads(PYPROJECT.read_text())["tool"]["importlinter"]["contracts"]


def test_the_contracts_cover_the_layers_and_keep_the_sdk_out_of_the_domain():
    # Given the project's import contracts
    found = {c["type"]: c for c in contracts()}
    # Then the layers run from the handlers down to the domain, and the domain and the
    # parsers are forbidden the web framework and the AWS SDK
    assert found["layers"]["layers"][0] == "chalicelib.handlers"
    assert found["layers"]["layers"][-1] == "chalicelib.domain"
    assert set(found["forbidden"]["forbidden_modules"]) == {"chalice", "boto3", "botocore"}


def test_the_code_keeps_every_contract():
    # When import-linter checks the code against the project's contracts
    # Then every one is kept
    assert lint_imports(PYPROJECT) == 0


@pytest.mark.parametrize(
    ("source", "forbidden"),
    [
        # the domain is below the adapters: an adapter importing the domain is expected
        ("chalicelib.adapters", "chalicelib.domain"),
        # the messaging adapter imports botocore inside functions: those imports count too
        ("chalicelib.adapters.messaging", "botocore"),
    ],
)
def test_a_broken_contract_is_reported(tmp_path, source, forbidden):
    # Given a contract the code breaks
    config = tmp_path / "contracts.toml"
    config.write_text(
        "[tool.importlinter]\n"
        'root_packages = ["chalicelib"]\n'
        "include_external_packages = true\n\n"
        "[[tool.importlinter.contracts]]\n"
        'name = "broken on purpose"\n'
        'type = "forbidden"\n'
        f'source_modules = ["{source}"]\n'
        f'forbidden_modules = ["{forbidden}"]\n'
    )
    # When import-linter checks it, Then it fails
    assert lint_imports(config) == 1

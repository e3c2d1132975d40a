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
    forbidden = [set(c["forbidden_modules"]) for c in contracts() if c["type"] == "forbidden"]
    # Then the layers run from the handlers down to the domain, and the domain and the
    # parsers are forbidden the web framework and the AWS SDK
    assert found["layers"]["layers"][0] == "chalicelib.handlers"
    assert found["layers"]["layers"][-1] == "chalicelib.domain"
    assert {"chalice", "boto3", "botocore"} in forbidden
    # And the domain's modules import each other one way only
    assert found["acyclic_siblings"]["ancestors"] == ["chalicelib.domain"]


def acyclic_config(tmp_path: Path, ancestor: str, skip: str | None = None) -> Path:
    config = tmp_path / "acyclic.toml"
    config.write_text(
        "[tool.importlinter]\n"
        f'root_packages = ["{ancestor.split(".")[0]}"]\n\n'
        "[[tool.importlinter.contracts]]\n"
        'name = "acyclic"\n'
        'type = "acyclic_siblings"\n'
        f'ancestors = ["{ancestor}"]\n' + (f'skip_descendants = ["{skip}"]\n' if skip else "")
    )
    return config


def test_the_domain_modules_have_no_import_cycle(tmp_path):
    # Given a contract that no module of the domain imports one that imports it back
    # (customers, profiles, scoring, segment_service and membership did, hidden in functions)
    config = acyclic_config(tmp_path, "chalicelib.domain", skip="chalicelib.domain.messaging")
    # When import-linter checks the code, Then it is kept
    assert lint_imports(config) == 0


def test_a_cycle_hidden_in_a_function_is_reported(tmp_path):
    # Given two modules, the second importing the first inside a function
    package = tmp_path / "cyclic"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "first.py").write_text("from cyclic import second\n")
    (package / "second.py").write_text("def f():\n    from cyclic import first\n\n    return first\n")
    config = acyclic_config(tmp_path, "cyclic")
    # When import-linter checks them, Then the cycle is reported
    command = [str(Path(sys.executable).parent / "lint-imports"), "--config", str(config), "--no-cache"]
    assert subprocess.run(command, cwd=tmp_path, capture_output=True, check=False).returncode == 1


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

"""The domain and the parsers stay free of the web framework and the AWS SDK."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

CHALICELIB = Path(__file__).resolve().parents[2] / "functions" / "chalicelib"
FORBIDDEN = ("chalice", "boto3", "botocore")
MODULES = sorted([*(CHALICELIB / "domain").glob("*.py"), *(CHALICELIB / "parsers").glob("*.py")])


def _dynamic_import_target(node: ast.Call) -> str | None:
    """The module named by __import__("x") or importlib.import_module("x")."""
    func = node.func
    dynamic = (isinstance(func, ast.Name) and func.id == "__import__") or (
        isinstance(func, ast.Attribute) and func.attr == "import_module"
    )
    if dynamic and node.args and isinstance(node.args[0], ast.Constant):
        value = node.args[0].value
        return value if isinstance(value, str) else None
    return None


def imported_modules(source: str) -> set[str]:
    """Every module an import statement names, at any depth (also inside functions)."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
        elif isinstance(node, ast.Call) and (target := _dynamic_import_target(node)):
            names.add(target)
    return names


def forbidden(names: set[str]) -> set[str]:
    return {n for n in names if n.split(".")[0] in FORBIDDEN}


def test_the_walk_finds_the_modules():
    # Given the chalicelib package
    # When the domain and parser modules are listed
    names = {p.relative_to(CHALICELIB).as_posix() for p in MODULES}
    # Then the core modules are among them (the walk is not silently empty)
    assert {"domain/profiles.py", "domain/ingest.py", "parsers/shopify.py", "parsers/__init__.py"} <= names


def test_the_checker_detects_forbidden_imports():
    # Given sources that import the forbidden packages in every way
    samples = [
        "import boto3",
        "import botocore.exceptions",
        "from chalice import Blueprint",
        "def f():\n    from botocore.config import Config\n",
        "m = __import__('boto3')",
        "import importlib\nimportlib.import_module('chalice.app')",
    ]
    # When the checker reads them
    # Then each one is caught, and a look-alike name is not
    for source in samples:
        assert forbidden(imported_modules(source)), source
    assert not forbidden(imported_modules("import chalicelib.domain\nimport boto3_stubs_x"))


@pytest.mark.parametrize("path", MODULES, ids=lambda p: p.relative_to(CHALICELIB).as_posix())
def test_domain_and_parsers_do_not_import_chalice_or_the_aws_sdk(path):
    # Given a domain or parser module
    source = path.read_text()
    # When its imports are collected
    names = imported_modules(source)
    # Then none of them is chalice, boto3 or botocore
    assert forbidden(names) == set()

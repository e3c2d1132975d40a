"""Deployed code is tested code: build the real Chalice package and import it cleanly."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import pytest

from patron import stack

# What the Lambda Python runtime provides besides the function's own code and layers.
LAMBDA_RUNTIME_PACKAGES = ("boto3", "botocore", "s3transfer", "jmespath", "dateutil", "urllib3", "six")


@pytest.fixture(scope="module")
def package(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("package")
    env = {**os.environ, "AWS_DEFAULT_REGION": "eu-west-1"}
    subprocess.run(
        [
            str(Path(sys.executable).parent / "chalice"),
            "--project-dir",
            str(stack.FUNCTIONS),
            "package",
            "--stage",
            "prod-euw1",
            str(out / "build"),
        ],
        check=True,
        env=env,
        capture_output=True,
        text=True,
    )
    return out


def _runtime_dir(root: Path) -> Path:
    """A directory holding only what the Lambda runtime has (symlinks into this venv)."""
    runtime = root / "runtime"
    runtime.mkdir(exist_ok=True)
    for name in LAMBDA_RUNTIME_PACKAGES:
        module = __import__(name)
        source = (
            Path(module.__file__).parent if module.__file__.endswith("__init__.py") else Path(module.__file__)
        )
        target = runtime / source.name
        if not target.exists():
            target.symlink_to(source)
    return runtime


@pytest.mark.slow
def test_every_handler_imports_from_the_built_package_in_a_clean_interpreter(package: Path):
    # Given the zip and the layer Chalice built, unpacked, and the Lambda runtime's own packages
    build = package / "build"
    code, layer = package / "code", package / "layer"
    zipfile.ZipFile(build / "deployment.zip").extractall(code)
    zipfile.ZipFile(build / "layer-deployment.zip").extractall(layer)
    site = next(layer.glob("python/lib/python3.*/site-packages"))
    template = json.loads((build / "sam.json").read_text())
    handlers = sorted(
        r["Properties"]["Handler"]
        for r in template["Resources"].values()
        if r["Type"] == "AWS::Serverless::Function"
    )
    assert "app.app" in handlers and "chalicelib.handlers.streams.ingest_stream" in handlers
    # When a fresh interpreter without site-packages imports each handler and serves a ping
    script = textwrap.dedent(f"""
        import importlib, json, sys
        found = {{}}
        for handler in {handlers!r}:
            module_name, attr = handler.rsplit(".", 1)
            module = importlib.import_module(module_name)
            assert callable(getattr(module, attr)), handler
            found[handler] = module.__file__
        import pydantic, app
        event = json.load(open({str(stack.ROOT / "events" / "apigateway" / "woocommerce_ping.json")!r}))
        response = app.app(event, None)
        print(json.dumps({{"files": found, "pydantic": pydantic.__file__,
                           "status": response["statusCode"], "body": response["body"]}}))
    """)
    env = {
        "PYTHONPATH": os.pathsep.join([str(code), str(site), str(_runtime_dir(package))]),
        "AWS_DEFAULT_REGION": "eu-west-1",
        "AWS_ACCESS_KEY_ID": "x",
        "AWS_SECRET_ACCESS_KEY": "x",
        "PATRON_STAGE": "prod-euw1",
        "PATRON_INGEST_TABLE": "patron-prod-euw1-ingest",
        "PATRON_CRM_TABLE": "patron-prod-euw1-crm",
        "POWERTOOLS_METRICS_DISABLED": "true",
    }
    result = subprocess.run(
        [sys.executable, "-S", "-c", script],
        env=env,
        cwd=package,
        capture_output=True,
        text=True,
    )
    # Then every handler came from the zip, dependencies from the layer, and the app answers
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert all(path.startswith(str(code)) for path in report["files"].values()), report["files"]
    assert report["pydantic"].startswith(str(layer))
    assert report["status"] == 200 and json.loads(report["body"])["status"] == "ping"


@pytest.mark.slow
def test_the_nightly_fit_runs_from_its_analytics_layer_in_a_clean_interpreter(package: Path):
    # Given the code zip, the dependency layer and the analytics layer (numpy, scipy), unpacked
    from patron.deploy import build_analytics_layer

    build = package / "build"
    archive = build_analytics_layer(build)
    code, layer, analytics = package / "code2", package / "layer2", package / "analytics"
    zipfile.ZipFile(build / "deployment.zip").extractall(code)
    zipfile.ZipFile(build / "layer-deployment.zip").extractall(layer)
    zipfile.ZipFile(archive).extractall(analytics)
    sizes = [
        sum(i.file_size for i in zipfile.ZipFile(z).infolist())
        for z in (build / "layer-deployment.zip", archive)
    ]
    # When a fresh interpreter fits a simulated workspace with the handler's own fit
    script = textwrap.dedent("""
        import json, random
        from chalicelib import container
        import numpy
        rng = random.Random(4)
        rows = []
        for _ in range(400):
            T = rng.randint(30, 700)
            x = rng.choice([0, 0, 1, 2, 5, 9])
            tx = 0 if x == 0 else rng.randint(x, T)
            rows.append((x, tx, T, 0.0 if x == 0 else rng.uniform(10, 90)))
        x, tx, T, m = zip(*rows)
        params = container._fit_workspace(list(x), list(tx), list(T), list(m), "2026-11-22T00:00:00Z")
        print(json.dumps({"method": params.method, "r": params.r, "numpy": numpy.__file__}))
    """)
    paths = [code, next(layer.glob("python/lib/python3.*/site-packages")), analytics / "python"]
    env = {"PYTHONPATH": os.pathsep.join(map(str, [*paths, _runtime_dir(package)]))}
    result = subprocess.run([sys.executable, "-S", "-c", script], env=env, capture_output=True, text=True)
    # Then the models are fitted with the layer's numpy, and both layers fit Lambda's 250 MB
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["method"] == "bgnbd+gamma_gamma" and report["r"] > 0
    assert report["numpy"].startswith(str(analytics))
    assert sum(sizes) < 250 * 1024 * 1024


@pytest.mark.slow
def test_package_holds_only_the_lambda_code(package: Path):
    names = zipfile.ZipFile(package / "build" / "deployment.zip").namelist()
    assert "app.py" in names
    assert all(n.startswith(("chalicelib/", "chalice/", "app.py")) for n in names), names
    assert not any(n.startswith(("tests/", "patron/", "src/")) for n in names)
    assert (package / "build" / "deployment.zip").stat().st_size < 5 * 1024 * 1024


def test_analytics_layer_pins_what_the_project_uses():
    pins = [
        line
        for line in (stack.ROOT / "layers" / "analytics" / "requirements.txt").read_text().splitlines()
        if line and not line.startswith("#")
    ]
    assert sorted(p.split("==")[0] for p in pins) == ["numpy", "scipy"]
    assert all("==" in p for p in pins)


def test_layer_requirements_match_the_project_pins():
    pyproject = (stack.ROOT / "pyproject.toml").read_text()
    requirements = [
        line.strip()
        for line in (stack.FUNCTIONS / "requirements.txt").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert requirements, "functions/requirements.txt is empty"
    for requirement in requirements:
        assert "==" in requirement, f"{requirement} is not pinned"
        assert f'"{requirement}"' in pyproject, f"{requirement} differs from pyproject.toml"


@pytest.mark.slow
def test_package_holds_the_web_console(package: Path):
    # Given the deployment zip Chalice built
    names = set(zipfile.ZipFile(package / "build" / "deployment.zip").namelist())
    # Then the console's page, scripts, styles, pages and vendored chart library are in it
    # (GET /console reads them from chalicelib/console/ in the function's package)
    console = stack.FUNCTIONS / "chalicelib" / "console"
    files = {
        f"chalicelib/console/{p.relative_to(console).as_posix()}" for p in console.rglob("*") if p.is_file()
    }
    assert {"chalicelib/console/index.html", "chalicelib/console/pages/overview.js"} <= files
    assert files <= names, sorted(files - names)

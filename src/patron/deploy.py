"""`patron deploy --stage STAGE --dry-run --out DIR`: the regional template, built and summarized.

The data resources (infra/resources.json) and the wiring Chalice cannot express
(infra/wiring.json: stream settings, environment references, the functions' policy)
are merged into `chalice package` output, so one template deploys a region.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from patron import stack


def deep_merge(base: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = value
    return out


def stage_region(stage: str) -> str:
    config = json.loads((stack.ROOT / "chalice.json").read_text())
    if stage not in config["stages"]:
        raise SystemExit(f"unknown stage {stage}; stages: {', '.join(config['stages'])}")
    return str(config["stages"][stage].get("tags", {}).get("patron:region", "us-east-1"))


def merge_template() -> dict[str, Any]:
    resources = json.loads(stack.RESOURCES.read_text())
    wiring = json.loads((stack.INFRA / "wiring.json").read_text())
    resources.pop("AWSTemplateFormatVersion", None)
    resources.pop("Description", None)
    wiring.pop("Description", None)
    return deep_merge(resources, wiring)


ANALYTICS_REQUIREMENTS = stack.ROOT / "layers" / "analytics" / "requirements.txt"


def build_analytics_layer(out: Path) -> Path:
    """numpy and scipy as manylinux wheels for the Lambda runtime, zipped as a layer.

    Only the nightly job needs them (the fit); scoring one profile is plain Python. The
    runtime's Python version is this interpreter's, as Chalice's own packaging assumes."""
    import shutil
    import tempfile

    target = out / "analytics-layer.zip"
    version = f"{sys.version_info.major}.{sys.version_info.minor}"
    with tempfile.TemporaryDirectory() as tmp:
        site = Path(tmp) / "python"
        subprocess.run(  # noqa: S603 - our own pip, pinned requirements
            [
                sys.executable,
                "-m",
                "pip",
                "install",
                "--quiet",
                "--no-compile",
                "--only-binary=:all:",
                "--platform",
                "manylinux2014_x86_64",
                "--implementation",
                "cp",
                "--python-version",
                version,
                "--target",
                str(site),
                "-r",
                str(ANALYTICS_REQUIREMENTS),
            ],
            check=True,
            capture_output=True,
            text=True,
        )
        for tests in [*site.glob("*/tests"), *site.glob("scipy/*/tests")]:
            shutil.rmtree(tests, ignore_errors=True)
        archive = shutil.make_archive(str(target.with_suffix("")), "zip", tmp, "python")
    return Path(archive)


def build(stage: str, out: Path, analytics_layer: bool = True) -> dict[str, Any]:
    """Package the stage; `analytics_layer=False` skips downloading numpy and scipy (the
    template still references the layer's zip, which must then be built before deploying)."""
    out.mkdir(parents=True, exist_ok=True)
    region = stage_region(stage)
    merge_file = out / "merge-template.json"
    merge_file.write_text(json.dumps(merge_template(), indent=2))
    chalice = str(Path(sys.executable).parent / "chalice")
    env = {**os.environ, "AWS_DEFAULT_REGION": region}
    subprocess.run(  # noqa: S603 - our own chalice, our own arguments
        [
            chalice,
            "--project-dir",
            str(stack.FUNCTIONS),
            "package",
            "--stage",
            stage,
            "--merge-template",
            str(merge_file),
            str(out),
        ],
        check=True,
        env=env,
        capture_output=True,
        text=True,
    )
    if analytics_layer:
        build_analytics_layer(out)
    template = json.loads((out / "sam.json").read_text())
    summary = summarize(stage, region, template, out)
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary


def summarize(stage: str, region: str, template: dict[str, Any], out: Path) -> dict[str, Any]:
    resources = template["Resources"]
    functions = {
        name: {
            "handler": r["Properties"]["Handler"],
            "events": sorted(r["Properties"].get("Events", {})),
        }
        for name, r in resources.items()
        if r["Type"] == "AWS::Serverless::Function"
    }
    artefacts = {p.name: p.stat().st_size for p in sorted(out.glob("*.zip"))}
    return {
        "stage": stage,
        "region": region,
        "stack": stack.stack_name(stage),
        "resources": {name: r["Type"] for name, r in sorted(resources.items())},
        "functions": functions,
        "artefacts_bytes": artefacts,
        "template": str(out / "sam.json"),
    }

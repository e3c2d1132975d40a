"""`patron deploy --stage STAGE`: the regional template, built, uploaded and deployed.

The data resources (infra/resources.json) and the wiring Chalice cannot express
(infra/wiring.json: stream settings, environment references) are merged into `chalice
package` output, so one template deploys a region; each function then gets its own role
from infra/permissions.json (patron.iam). `--dry-run --out DIR` stops there. A deploy
uploads the artefacts to a bucket in the stage's region, expands the SAM resources into
plain CloudFormation (patron.sam) and creates or updates the stack `patron-<stage>`.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from patron import capacity, iam, stack


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
    # One role per function from infra/permissions.json, in place of Chalice's shared role.
    template = capacity.apply(iam.apply(json.loads((out / "sam.json").read_text())))
    (out / "sam.json").write_text(json.dumps(template, indent=2))
    summary = summarize(stage, region, template, out)
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary


def summarize(stage: str, region: str, template: dict[str, Any], out: Path) -> dict[str, Any]:
    resources = template["Resources"]
    grants = iam.load()["functions"]
    functions = {
        name: {
            "handler": r["Properties"]["Handler"],
            "events": sorted(r["Properties"].get("Events", {})),
            "grants": grants.get(name, {}).get("grants", []),
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


# -- deploy: upload, expand, create or update the stack ------------------------------------

ARTEFACTS = ("deployment.zip", "layer-deployment.zip", "analytics-layer.zip")
CAPABILITIES = ["CAPABILITY_IAM"]  # the roles are unnamed: CloudFormation names them per stack


class DeployError(SystemExit):
    """The stack could not be deployed; the message says why (failed resources and reasons)."""


def artefact_bucket(account: str, region: str) -> str:
    return f"patron-artefacts-{account}-{region}"


def ensure_bucket(s3: Any, bucket: str, region: str) -> None:
    """The stage's artefact bucket, in the stage's region, created private if missing."""
    from botocore.exceptions import ClientError

    try:
        location = s3.get_bucket_location(Bucket=bucket).get("LocationConstraint") or "us-east-1"
    except ClientError as exc:
        if exc.response["Error"]["Code"] not in ("NoSuchBucket", "404"):
            raise
        kwargs: dict[str, Any] = {"Bucket": bucket}
        if region != "us-east-1":
            kwargs["CreateBucketConfiguration"] = {"LocationConstraint": region}
        s3.create_bucket(**kwargs)
        s3.put_public_access_block(
            Bucket=bucket,
            PublicAccessBlockConfiguration={
                "BlockPublicAcls": True,
                "IgnorePublicAcls": True,
                "BlockPublicPolicy": True,
                "RestrictPublicBuckets": True,
            },
        )
        return
    if location != region:
        raise DeployError(f"artefact bucket {bucket} is in {location}, not in the stage's region {region}")


def upload(s3: Any, bucket: str, prefix: str, path: Path) -> dict[str, str]:
    """Content-addressed: an unchanged artefact keeps its key, so its function is not updated."""
    import hashlib

    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:20]
    key = f"{prefix}/{digest}-{path.name}"
    s3.upload_file(str(path), bucket, key)
    return {"Bucket": bucket, "Key": key}


def package(template: dict[str, Any], out: Path, s3: Any, bucket: str, prefix: str) -> dict[str, Any]:
    """The template with each local CodeUri / ContentUri replaced by its uploaded location."""
    uploaded: dict[str, dict[str, str]] = {}
    for name, resource in template["Resources"].items():
        props = resource.get("Properties", {})
        for field in ("CodeUri", "ContentUri"):
            uri = props.get(field)
            if not isinstance(uri, str) or uri.startswith("s3://"):
                continue
            path = (out / uri).resolve()
            if path.name not in ARTEFACTS or not path.is_file():
                raise DeployError(f"{name}: artefact {uri} is missing from {out}")
            if path.name not in uploaded:
                uploaded[path.name] = upload(s3, bucket, prefix, path)
            props[field] = uploaded[path.name]
    return template


def _failures(cloudformation: Any, name: str) -> list[str]:
    events = cloudformation.describe_stack_events(StackName=name)["StackEvents"]
    return [
        f"{e['LogicalResourceId']}: {e.get('ResourceStatusReason', e['ResourceStatus'])}"
        for e in events
        if e["ResourceStatus"].endswith("_FAILED")
    ][:10]


def for_embedded_aws(template: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """The parts of the expanded template that moto's CloudFormation can create.

    moto has no CloudFormation model for the SES configuration set, its event destination
    and the campaigns' pass-through template, the SNS subscription and the SQS queue policy
    (the SES events route), nor for the webhook function's URL (`AWS::Lambda::Url`: its
    function and permissions are deployed, its address output is left out); a
    reference to one of them loops in moto's parser. moto's RestApi ignores its OpenAPI
    body, so the API's deployment (stage) would have no methods. These are left out, and
    each `Ref` to one becomes its name, as CloudFormation would resolve it. Everything
    else (tables, queues, bucket, topic, roles, functions, layers, event source mappings,
    rules, the REST API) is deployed as it is. Returns the template and what was left out."""
    from moto.cloudformation.parsing import get_model_map

    # moto's RestApi ignores the OpenAPI body, so its Deployment finds no methods to deploy
    supported = set(get_model_map()) - {"AWS::ApiGateway::Deployment"}
    resources = template["Resources"]
    skipped = {n: r for n, r in resources.items() if r["Type"] not in supported}

    def name_of(logical: str, props: dict[str, Any]) -> Any:
        # what `Ref` returns for these types: their name (an SES template's is inside it)
        named = props.get("Name") or props.get("Template", {}).get("TemplateName")
        return named or {"Fn::Sub": "${AWS::StackName}-" + logical}

    names = {n: name_of(n, r.get("Properties", {})) for n, r in skipped.items()}

    def inline(value: Any) -> Any:
        if isinstance(value, dict):
            if set(value) == {"Ref"} and value["Ref"] in names:
                return names[value["Ref"]]
            if "Fn::GetAtt" in value and value["Fn::GetAtt"][0] in names:
                raise DeployError(f"embedded AWS: {value} names a resource moto cannot create")
            if set(value) == {"Fn::Sub"} and isinstance(value["Fn::Sub"], str):
                text = value["Fn::Sub"]
                for name, resolved in names.items():
                    if "${" + name + "." in text:
                        raise DeployError(f"embedded AWS: {text} names a resource moto cannot create")
                    if "${" + name + "}" in text:
                        if not (isinstance(resolved, dict) and isinstance(resolved.get("Fn::Sub"), str)):
                            raise DeployError(f"embedded AWS: cannot inline {name} in {text}")
                        text = text.replace("${" + name + "}", resolved["Fn::Sub"])
                return {"Fn::Sub": text}
            return {k: inline(v) for k, v in value.items()}
        if isinstance(value, list):
            return [inline(v) for v in value]
        return value

    kept = {n: inline(r) for n, r in resources.items() if n not in skipped}
    # An output that reads an attribute of a left-out resource (the webhook Function URL's
    # address: moto has no AWS::Lambda::Url) is left out with it.
    outputs = dict(template.get("Outputs", {}))
    unreadable = {n for n, o in outputs.items() if _reads_attribute_of(o, set(names))}
    outputs = {n: o for n, o in outputs.items() if n not in unreadable}
    for resource in kept.values():
        depends = resource.get("DependsOn")
        if depends is not None:
            listed = [depends] if isinstance(depends, str) else depends
            resource["DependsOn"] = [d for d in listed if d not in skipped]
    view = {**template, "Resources": kept, "Outputs": inline(outputs)}
    left_out = [f"{n} ({r['Type']})" for n, r in skipped.items()] + [f"{n} (Output)" for n in unreadable]
    return view, sorted(left_out)


def _reads_attribute_of(value: Any, names: set[str]) -> bool:
    if isinstance(value, dict):
        attribute = value.get("Fn::GetAtt")
        if isinstance(attribute, list) and attribute and attribute[0] in names:
            return True
        return any(_reads_attribute_of(v, names) for v in value.values())
    if isinstance(value, list):
        return any(_reads_attribute_of(v, names) for v in value)
    return False


def webhook_urls(outputs: dict[str, str]) -> dict[str, str] | None:
    """What to give each storefront: the Function URL (the default front door) plus its path.
    None where the stack has no Function URL (the embedded AWS: moto cannot create one)."""
    base = outputs.get("WebhookBaseUrl")
    if not base:
        return None
    return {p: base.rstrip("/") + f"/webhooks/{p}" for p in ("shopify", "woocommerce", "generic")}


def deploy(
    stage: str,
    out: Path,
    session: Any = None,
    endpoint_url: str | None = None,
    bucket: str | None = None,
    analytics_layer: Path | None = None,
    wait_delay: int = 10,
    embedded: bool = False,
    parameters: dict[str, str] | None = None,
) -> dict[str, Any]:
    """Package the stage, upload its artefacts and template to a bucket in its region,
    and create or update the stack `patron-<stage>`, waiting for it; returns its outputs.

    `session` and `endpoint_url` are injected for the embedded AWS (tests); in a region
    they come from the environment (profile, role) as for the AWS CLI. `analytics_layer`
    reuses a built numpy/scipy layer zip instead of building it (49 MB from PyPI).
    `embedded` deploys what moto's CloudFormation can create (`for_embedded_aws`).
    `parameters` are the stack's (`TableCapacity`, `CapacityMin`, ...: patron.capacity);
    on an update, one not given keeps its previous value."""
    import shutil

    import boto3
    from botocore.exceptions import ClientError, WaiterError

    from patron import sam

    region = stage_region(stage)
    name = stack.stack_name(stage)
    summary = build(stage, out, analytics_layer=analytics_layer is None)
    if analytics_layer is not None:
        shutil.copyfile(analytics_layer, out / "analytics-layer.zip")
        summary["artefacts_bytes"] = {p.name: p.stat().st_size for p in sorted(out.glob("*.zip"))}
    session = session or boto3.session.Session()

    def client(service: str) -> Any:
        from botocore.config import Config

        config = Config(account_id_endpoint_mode="disabled") if endpoint_url else None
        return session.client(service, region_name=region, endpoint_url=endpoint_url, config=config)

    s3, cloudformation = client("s3"), client("cloudformation")
    bucket = bucket or artefact_bucket(client("sts").get_caller_identity()["Account"], region)
    ensure_bucket(s3, bucket, region)
    packaged = package(json.loads((out / "sam.json").read_text()), out, s3, bucket, name)
    template = sam.expand(packaged)
    skipped: list[str] = []
    if embedded:
        template, skipped = for_embedded_aws(capacity.resolve(template, parameters or {}))
    (out / "cloudformation.json").write_text(json.dumps(template, indent=2))
    location = upload(s3, bucket, name, out / "cloudformation.json")
    url = f"https://{bucket}.s3.{region}.amazonaws.com/{location['Key']}"
    request: dict[str, Any] = {
        "StackName": name,
        "TemplateURL": url,
        "Capabilities": CAPABILITIES,
        "Tags": [{"Key": "patron:stage", "Value": stage}, {"Key": "patron:region", "Value": region}],
    }
    previous: dict[str, str] = {}
    try:
        described = cloudformation.describe_stacks(StackName=name)["Stacks"][0]
        existing = described["StackStatus"]
        previous = {p["ParameterKey"]: p["ParameterValue"] for p in described.get("Parameters", [])}
    except ClientError as exc:
        if "does not exist" not in exc.response["Error"]["Message"]:
            raise
        existing = None
    if existing == "ROLLBACK_COMPLETE":
        raise DeployError(
            f"stack {name} failed its first creation (ROLLBACK_COMPLETE): delete it, then deploy"
        )
    action = "create" if existing is None else "update"
    given = parameters or {}
    # An update keeps the values the stack has for what is not given. (The embedded AWS
    # gets a template with the values decided, and no parameters: capacity.resolve.)
    kept = {k: v for k, v in previous.items() if k in capacity.PARAMETERS}
    if not embedded:
        request["Parameters"] = [
            {"ParameterKey": k, "ParameterValue": str(v)} for k, v in (kept | given).items()
        ]
    try:
        if action == "create":
            cloudformation.create_stack(**request, OnFailure="ROLLBACK")
        else:
            cloudformation.update_stack(**request)
    except ClientError as exc:
        if "No updates are to be performed" not in exc.response["Error"]["Message"]:
            raise
        action = "unchanged"
    if action != "unchanged":
        waiter = cloudformation.get_waiter(f"stack_{action}_complete")
        try:
            waiter.wait(StackName=name, WaiterConfig={"Delay": wait_delay, "MaxAttempts": 360})
        except WaiterError as exc:
            raise DeployError(
                f"stack {name} did not {action}: " + "; ".join(_failures(cloudformation, name) or [str(exc)])
            ) from exc
    outputs = stack.outputs(cloudformation, stage)
    return {
        "stage": stage,
        "region": region,
        "stack": name,
        "action": {"create": "created", "update": "updated"}.get(action, action),
        "parameters": given,
        "bucket": bucket,
        "template": url,
        "artefacts_bytes": summary["artefacts_bytes"],
        "outputs": outputs,
        "webhook_urls": webhook_urls(outputs),
        **({"left_out_for_embedded_aws": skipped} if embedded else {}),
    }

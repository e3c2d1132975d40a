"""The SAM resources that `chalice package` writes, expanded into plain CloudFormation.

`patron deploy` deploys the expanded template, so what CloudFormation receives is what
the tests deploy into the embedded AWS (moto's CloudFormation has no SAM transform). Only
what Chalice and infra/ use is expanded; any other SAM type, property or event type
stops the deploy rather than be dropped:

- `AWS::Serverless::Function` -> `AWS::Lambda::Function`, plus per event: DynamoDB and
  SQS -> `AWS::Lambda::EventSourceMapping`; Schedule -> `AWS::Events::Rule` and the
  `AWS::Lambda::Permission` that lets the rule invoke the function;
- `AWS::Serverless::LayerVersion` -> `AWS::Lambda::LayerVersion` (RetentionPolicy ->
  DeletionPolicy; SAM's default is Retain);
- `AWS::Serverless::Api` -> `AWS::ApiGateway::RestApi` with the OpenAPI body and an
  `AWS::ApiGateway::Deployment` of the stage, named after a hash of the body so that a
  changed API is deployed again (as SAM does).
"""

from __future__ import annotations

import copy
import hashlib
import json
from typing import Any

TRANSFORM = "AWS::Serverless-2016-10-31"

FUNCTION_PROPERTIES = {
    "Runtime",
    "Handler",
    "CodeUri",
    "Tags",
    "Tracing",
    "Timeout",
    "MemorySize",
    "Architectures",
    "Environment",
    "Layers",
    "Role",
    "FunctionName",
    "Events",
    "Description",
    "ReservedConcurrentExecutions",
}
STREAM_PROPERTIES = {
    "Stream",
    "StartingPosition",
    "BatchSize",
    "MaximumBatchingWindowInSeconds",
    "ParallelizationFactor",
    "BisectBatchOnFunctionError",
    "MaximumRetryAttempts",
    "MaximumRecordAgeInSeconds",
    "FunctionResponseTypes",
    "DestinationConfig",
    "FilterCriteria",
    "Enabled",
}
QUEUE_PROPERTIES = {
    "Queue",
    "BatchSize",
    "MaximumBatchingWindowInSeconds",
    "FunctionResponseTypes",
    "FilterCriteria",
    "Enabled",
    "ScalingConfig",
}
LAYER_PROPERTIES = {
    "LayerName",
    "ContentUri",
    "CompatibleRuntimes",
    "CompatibleArchitectures",
    "Description",
    "LicenseInfo",
    "RetentionPolicy",
}
API_PROPERTIES = {"DefinitionBody", "EndpointConfiguration", "StageName"}


class UnsupportedSam(ValueError):
    """SAM that this expander does not know: expand it here before deploying it."""


def _only(kind: str, name: str, props: dict[str, Any], allowed: set[str]) -> None:
    unknown = sorted(set(props) - allowed)
    if unknown:
        raise UnsupportedSam(f"{name} ({kind}): {', '.join(unknown)} not expanded by patron.sam")


def _s3(name: str, uri: Any) -> dict[str, Any]:
    if isinstance(uri, dict) and {"Bucket", "Key"} <= set(uri):
        return {"S3Bucket": uri["Bucket"], "S3Key": uri["Key"]}
    if isinstance(uri, str) and uri.startswith("s3://"):
        bucket, _, key = uri[len("s3://") :].partition("/")
        return {"S3Bucket": bucket, "S3Key": key}
    raise UnsupportedSam(f"{name}: code {uri!r} is not uploaded (package it first)")


def _function(name: str, props: dict[str, Any], out: dict[str, Any]) -> dict[str, Any]:
    _only("function", name, props, FUNCTION_PROPERTIES)
    fn: dict[str, Any] = {"Code": _s3(name, props["CodeUri"])}
    for key in (
        "FunctionName",
        "Description",
        "Handler",
        "Runtime",
        "Role",
        "Timeout",
        "MemorySize",
        "Architectures",
        "Environment",
        "Layers",
        "ReservedConcurrentExecutions",
    ):
        if key in props:
            fn[key] = props[key]
    if "Tracing" in props:
        fn["TracingConfig"] = {"Mode": props["Tracing"]}
    if "Tags" in props:
        fn["Tags"] = [{"Key": k, "Value": v} for k, v in sorted(props["Tags"].items())]
    for event_name, event in sorted(props.get("Events", {}).items()):
        _event(name, f"{name}{event_name}", event, out)
    return {"Type": "AWS::Lambda::Function", "Properties": fn}


def _event(function: str, logical: str, event: dict[str, Any], out: dict[str, Any]) -> None:
    kind, props = event["Type"], dict(event.get("Properties", {}))
    if kind in ("DynamoDB", "SQS"):
        _only(f"{kind} event", logical, props, STREAM_PROPERTIES if kind == "DynamoDB" else QUEUE_PROPERTIES)
        mapping: dict[str, Any] = {
            "EventSourceArn": props.pop("Stream" if kind == "DynamoDB" else "Queue"),
            "FunctionName": {"Ref": function},
        }
        destination = props.pop("DestinationConfig", None)
        if destination is not None:
            on_failure = destination["OnFailure"]
            mapping["DestinationConfig"] = {"OnFailure": {"Destination": on_failure["Destination"]}}
        mapping.update(props)
        out[logical] = {"Type": "AWS::Lambda::EventSourceMapping", "Properties": mapping}
        return
    if kind == "Schedule":
        _only("Schedule event", logical, props, {"Schedule", "Enabled", "Description"})
        rule: dict[str, Any] = {
            "ScheduleExpression": props["Schedule"],
            "State": "ENABLED" if props.get("Enabled", True) else "DISABLED",
            "Targets": [{"Arn": {"Fn::GetAtt": [function, "Arn"]}, "Id": f"{logical}LambdaTarget"}],
        }
        if "Description" in props:
            rule["Description"] = props["Description"]
        out[logical] = {"Type": "AWS::Events::Rule", "Properties": rule}
        out[f"{logical}Permission"] = {
            "Type": "AWS::Lambda::Permission",
            "Properties": {
                "Action": "lambda:InvokeFunction",
                "FunctionName": {"Ref": function},
                "Principal": "events.amazonaws.com",
                "SourceArn": {"Fn::GetAtt": [logical, "Arn"]},
            },
        }
        return
    raise UnsupportedSam(f"{logical}: event type {kind} not expanded by patron.sam")


def _layer(name: str, props: dict[str, Any]) -> dict[str, Any]:
    _only("layer", name, props, LAYER_PROPERTIES)
    layer: dict[str, Any] = {"Content": _s3(name, props["ContentUri"])}
    for key in ("LayerName", "CompatibleRuntimes", "CompatibleArchitectures", "Description", "LicenseInfo"):
        if key in props:
            layer[key] = props[key]
    policy = props.get("RetentionPolicy", "Retain")
    return {"Type": "AWS::Lambda::LayerVersion", "DeletionPolicy": policy, "Properties": layer}


def _api(name: str, props: dict[str, Any], out: dict[str, Any]) -> dict[str, Any]:
    _only("api", name, props, API_PROPERTIES)
    endpoint = props.get("EndpointConfiguration", "EDGE")
    kind = endpoint["Type"] if isinstance(endpoint, dict) else endpoint
    body = props["DefinitionBody"]
    digest = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()[:10]
    out[f"{name}Deployment{digest}"] = {
        "Type": "AWS::ApiGateway::Deployment",
        "Properties": {
            "RestApiId": {"Ref": name},
            "Description": f"{name} deployment {digest}",
            "StageName": props["StageName"],
        },
    }
    return {
        "Type": "AWS::ApiGateway::RestApi",
        "Properties": {
            "Name": {"Fn::Sub": "${AWS::StackName}"},
            "Body": body,
            "EndpointConfiguration": {"Types": [kind]},
            "Parameters": {"endpointConfigurationTypes": kind},
        },
    }


def expand(template: dict[str, Any]) -> dict[str, Any]:
    """Plain CloudFormation for a packaged template (code already in S3)."""
    source = copy.deepcopy(template)
    transform = source.pop("Transform", None)
    if transform not in (None, TRANSFORM):
        raise UnsupportedSam(f"transform {transform!r} not expanded by patron.sam")
    resources: dict[str, Any] = {}
    added: dict[str, Any] = {}
    for name, resource in source["Resources"].items():
        kind, props = resource["Type"], resource.get("Properties", {})
        if kind == "AWS::Serverless::Function":
            resources[name] = _function(name, props, added)
        elif kind == "AWS::Serverless::LayerVersion":
            resources[name] = _layer(name, props)
        elif kind == "AWS::Serverless::Api":
            resources[name] = _api(name, props, added)
        elif kind.startswith("AWS::Serverless::"):
            raise UnsupportedSam(f"{name}: {kind} not expanded by patron.sam")
        else:
            resources[name] = resource
    clash = set(resources) & set(added)
    if clash:
        raise UnsupportedSam(f"expanded names clash with the template's: {sorted(clash)}")
    source["Resources"] = {**resources, **added}
    return source

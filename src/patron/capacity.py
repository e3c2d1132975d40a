"""DynamoDB capacity, chosen per stack: on demand (the default) or provisioned with auto scaling.

On demand costs $0.625 per million write units and needs no planning. Provisioned
capacity at auto scaling's 70% target costs about $0.26 per million write units used,
plus a floor: every table and index holds at least `CapacityMin` units of each kind
around the clock. Below a few million orders a month the floor eats the saving;
above it, provisioned is the cheapest lever Patron has (docs/cost.md). A throttled
request is retried by the SDK; past that, a webhook answers 5xx and the storefront
retries it, a stream batch is retried, and a campaign batch backs off: the fault tests
throttle a fifth of all DynamoDB calls and end with the same profiles.

`apply` adds to a packaged template (not to infra/resources.json, which the local
stack provisions on demand):

- the parameters `TableCapacity` (`on-demand` | `provisioned`), `CapacityMin`,
  `CapacityMax` and `CapacityTarget` (the utilization auto scaling keeps, percent);
- each table's billing mode and throughput, and each index's, under the condition
  `ProvisionedCapacity`;
- for each table and index, a read and a write scalable target with its target-tracking
  policy, under the same condition.

`patron deploy --stage S --table-capacity provisioned` sets the parameter.
"""

from __future__ import annotations

import copy
import re
from typing import Any

CONDITION = "ProvisionedCapacity"
PARAMETERS: dict[str, dict[str, Any]] = {
    "TableCapacity": {
        "Type": "String",
        "Default": "on-demand",
        "AllowedValues": ["on-demand", "provisioned"],
        "Description": "DynamoDB billing: on demand, or provisioned with auto scaling",
    },
    "CapacityMin": {
        "Type": "Number",
        "Default": 1,
        "MinValue": 1,
        "Description": "provisioned: the fewest read and write units of each table and index",
    },
    "CapacityMax": {
        "Type": "Number",
        "Default": 4000,
        "MinValue": 1,
        "Description": "provisioned: the most read and write units of each table and index",
    },
    "CapacityTarget": {
        "Type": "Number",
        "Default": 70,
        "MinValue": 20,
        "MaxValue": 90,
        "Description": "provisioned: the utilization (percent) auto scaling keeps",
    },
}
KINDS = (("Read", "ReadCapacityUnits"), ("Write", "WriteCapacityUnits"))


def _if_provisioned(value: Any, otherwise: Any) -> dict[str, Any]:
    return {"Fn::If": [CONDITION, value, otherwise]}


def _throughput() -> dict[str, Any]:
    units = {"Ref": "CapacityMin"}
    return _if_provisioned({"ReadCapacityUnits": units, "WriteCapacityUnits": units}, {"Ref": "AWS::NoValue"})


def _logical(*parts: str) -> str:
    return "".join(re.sub(r"[^A-Za-z0-9]", " ", p).title().replace(" ", "") for p in parts)


def _scaling(table: str, index: str | None) -> dict[str, dict[str, Any]]:
    """A read and a write scalable target, each with its target-tracking policy."""
    scope = "index" if index else "table"
    resource_id: Any = {"Fn::Sub": f"table/${{{table}}}" + (f"/index/{index}" if index else "")}
    out: dict[str, dict[str, Any]] = {}
    for kind, units in KINDS:
        target = _logical(table, index or "", kind, "Scaling")
        out[target] = {
            "Type": "AWS::ApplicationAutoScaling::ScalableTarget",
            "Condition": CONDITION,
            "Properties": {
                "ServiceNamespace": "dynamodb",
                "ResourceId": resource_id,
                "ScalableDimension": f"dynamodb:{scope}:{units}",
                "MinCapacity": {"Ref": "CapacityMin"},
                "MaxCapacity": {"Ref": "CapacityMax"},
            },
        }
        out[target + "Policy"] = {
            "Type": "AWS::ApplicationAutoScaling::ScalingPolicy",
            "Condition": CONDITION,
            "Properties": {
                "PolicyName": {"Fn::Sub": f"${{AWS::StackName}}-{target}"},
                "PolicyType": "TargetTrackingScaling",
                "ScalingTargetId": {"Ref": target},
                "TargetTrackingScalingPolicyConfiguration": {
                    "TargetValue": {"Ref": "CapacityTarget"},
                    "PredefinedMetricSpecification": {
                        "PredefinedMetricType": f"DynamoDB{kind}CapacityUtilization"
                    },
                },
            },
        }
    return out


def apply(template: dict[str, Any]) -> dict[str, Any]:
    """The template with its tables' capacity chosen by the `TableCapacity` parameter."""
    out = copy.deepcopy(template)
    out.setdefault("Parameters", {}).update(copy.deepcopy(PARAMETERS))
    out.setdefault("Conditions", {})[CONDITION] = {"Fn::Equals": [{"Ref": "TableCapacity"}, "provisioned"]}
    resources = out["Resources"]
    added: dict[str, dict[str, Any]] = {}
    for name, resource in list(resources.items()):
        if resource["Type"] != "AWS::DynamoDB::Table":
            continue
        props = resource["Properties"]
        props["BillingMode"] = _if_provisioned("PROVISIONED", "PAY_PER_REQUEST")
        props["ProvisionedThroughput"] = _throughput()
        added |= _scaling(name, None)
        for index in props.get("GlobalSecondaryIndexes", []):
            index["ProvisionedThroughput"] = _throughput()
            added |= _scaling(name, index["IndexName"])
    clash = set(added) & set(resources)
    if clash:
        raise ValueError(f"capacity resources clash with the template's: {sorted(clash)}")
    resources.update(added)
    return out


def resolve(template: dict[str, Any], given: dict[str, str]) -> dict[str, Any]:
    """The template with the capacity parameters decided (`given` over their defaults):
    no parameters, no condition. The embedded AWS deploys this: moto's CloudFormation
    loses a table on a stack update whose parameters the table's properties refer to."""
    values: dict[str, Any] = {k: p["Default"] for k, p in PARAMETERS.items()} | dict(given)
    values = {k: int(v) if PARAMETERS[k]["Type"] == "Number" else v for k, v in values.items()}
    provisioned = values["TableCapacity"] == "provisioned"

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            if set(value) == {"Ref"} and value["Ref"] in values:
                return values[value["Ref"]]
            if set(value) == {"Fn::If"} and value["Fn::If"][0] == CONDITION:
                return walk(value["Fn::If"][1 if provisioned else 2])
            out = {k: walk(v) for k, v in value.items()}
            return {k: v for k, v in out.items() if v != {"Ref": "AWS::NoValue"}}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    out = walk(copy.deepcopy(template))
    for name in PARAMETERS:
        out.get("Parameters", {}).pop(name, None)
    out.get("Conditions", {}).pop(CONDITION, None)
    for key in ("Parameters", "Conditions"):
        if key in out and not out[key]:
            del out[key]
    resources = out["Resources"]
    for name, resource in list(resources.items()):
        if resource.get("Condition") == CONDITION:
            if provisioned:
                del resource["Condition"]
            else:
                del resources[name]
    return out

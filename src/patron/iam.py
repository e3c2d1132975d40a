"""Least privilege: one role per function, generated from infra/permissions.json.

Chalice packages every function with one shared `DefaultRole`. After packaging, each
function gets its own `AWS::IAM::Role` holding only its named grants (plus writing its own
log group), its name is fixed to `<stack>-<LogicalId>` so that the role can name that log
group, and the shared role goes. A function without an entry fails the build, and so
does an entry for a function that is not in the package or a grant that is not defined.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from patron import stack

PERMISSIONS = stack.INFRA / "permissions.json"
FUNCTION = "AWS::Serverless::Function"


class PermissionsError(SystemExit):
    """The permissions map and the package disagree: the build stops here."""


def load(path: Path = PERMISSIONS) -> dict[str, Any]:
    return dict(json.loads(path.read_text()))


def role_name(function: str) -> str:
    return f"{function}Role"


def _resources(value: str | list[str]) -> str | list[Any]:
    if value == "*":
        return "*"
    items = [value] if isinstance(value, str) else value
    return [{"Fn::Sub": r} if "${" in r else r for r in items]


def statements(function: str, grants: list[str], defined: dict[str, Any]) -> list[dict[str, Any]]:
    log_group = (
        "arn:${AWS::Partition}:logs:${AWS::Region}:${AWS::AccountId}:log-group:/aws/lambda/"
        "${AWS::StackName}-" + function
    )
    out: list[dict[str, Any]] = [
        {
            "Sid": "OwnLogs",
            "Effect": "Allow",
            "Action": ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"],
            "Resource": [{"Fn::Sub": log_group}, {"Fn::Sub": log_group + ":*"}],
        }
    ]
    for grant in grants:
        spec = defined[grant]
        out.append(
            {
                "Sid": "".join(part.capitalize() for part in re.split(r"[^A-Za-z0-9]+", grant) if part),
                "Effect": "Allow",
                "Action": list(spec["Action"]),
                "Resource": _resources(spec["Resource"]),
            }
        )
    return out


def check(template: dict[str, Any], permissions: dict[str, Any]) -> list[str]:
    """What stops the build: functions without an entry, stale entries, unknown grants."""
    functions = {n for n, r in template["Resources"].items() if r["Type"] == FUNCTION}
    entries = permissions["functions"]
    problems = [
        f"function {name} has no entry in infra/permissions.json: give it its grants"
        for name in sorted(functions - set(entries))
    ]
    problems += [
        f"infra/permissions.json names {name}, which is not in the package"
        for name in sorted(set(entries) - functions)
    ]
    for name, entry in sorted(entries.items()):
        for grant in entry["grants"]:
            if grant not in permissions["grants"]:
                problems.append(f"{name}: grant {grant} is not defined in infra/permissions.json")
        if len(set(entry["grants"])) != len(entry["grants"]):
            problems.append(f"{name}: a grant is listed twice")
    return problems


def apply(template: dict[str, Any], permissions: dict[str, Any] | None = None) -> dict[str, Any]:
    """The packaged template with one role per function in place of Chalice's shared role."""
    permissions = permissions or load()
    problems = check(template, permissions)
    if problems:
        raise PermissionsError("least privilege: " + "; ".join(problems))
    resources = template["Resources"]
    for name in [n for n, r in resources.items() if r["Type"] == FUNCTION]:
        props = resources[name]["Properties"]
        role = role_name(name)
        resources[role] = {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "AssumeRolePolicyDocument": {
                    "Version": "2012-10-17",
                    "Statement": [
                        {
                            "Effect": "Allow",
                            "Principal": {"Service": "lambda.amazonaws.com"},
                            "Action": "sts:AssumeRole",
                        }
                    ],
                },
                "Policies": [
                    {
                        "PolicyName": name,
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": statements(
                                name, permissions["functions"][name]["grants"], permissions["grants"]
                            ),
                        },
                    }
                ],
            },
        }
        props["Role"] = {"Fn::GetAtt": [role, "Arn"]}
        props["FunctionName"] = {"Fn::Sub": "${AWS::StackName}-" + name}
    shared = resources.pop("DefaultRole", None)
    if shared is not None and "DefaultRole" in json.dumps(template):
        raise PermissionsError("least privilege: something still refers to Chalice's DefaultRole")
    return template

"""Least privilege, read from the generated template: one role per function, each statement
a named grant the function has a reason for, no wildcard actions, nothing outside the region."""

from __future__ import annotations

import ast
import copy
import json
import re
from pathlib import Path
from typing import Any

import pytest

from patron import iam, stack
from patron.deploy import build

pytestmark = pytest.mark.slow

PERMISSIONS = json.loads(iam.PERMISSIONS.read_text())
REGION = re.compile(r"\b(?:us|eu|ap|sa|ca|me|af|il|mx)(?:-gov)?-[a-z]+-\d\b")
# Actions IAM cannot scope to a resource: an SMS to a phone number has no topic, the STOP
# list (checked or listed) and the SES sending rate are the account's, and X-Ray takes
# trace segments from the account. Nothing else may name "*".
RESOURCE_LESS = {
    "sns:Publish",
    "sns:CheckIfPhoneNumberIsOptedOut",
    "sns:ListPhoneNumbersOptedOut",
    "ses:GetSendQuota",
    "xray:PutTraceSegments",
    "xray:PutTelemetryRecords",
}


@pytest.fixture(scope="module", params=["prod-use1", "prod-euw1"])
def template(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    out = tmp_path_factory.mktemp(f"iam-{request.param}")
    build(request.param, out, analytics_layer=False)
    return dict(json.loads((out / "sam.json").read_text()))


def functions(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {n: r["Properties"] for n, r in template["Resources"].items() if r["Type"] == iam.FUNCTION}


def policy(template: dict[str, Any], function: str) -> list[dict[str, Any]]:
    role = functions(template)[function]["Role"]["Fn::GetAtt"][0]
    (document,) = template["Resources"][role]["Properties"]["Policies"]
    return list(document["PolicyDocument"]["Statement"])


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def grant_of(statement: dict[str, Any]) -> str:
    """The named grant a statement was made from (its Sid), checked to be exactly that grant."""
    matches = [
        name
        for name, spec in PERMISSIONS["grants"].items()
        if statement["Action"] == spec["Action"]
        and statement["Resource"] == iam._resources(spec["Resource"])
        and statement["Sid"] == iam.statements("X", [name], PERMISSIONS["grants"])[1]["Sid"]
    ]
    assert len(matches) == 1, f"statement matches no single grant: {statement}"
    return matches[0]


def handler_source(handler: str) -> tuple[Path, str]:
    """The file and the source of the function a Lambda handler names (app.app: all of app.py)."""
    module, attr = handler.rsplit(".", 1)
    path = stack.FUNCTIONS / (module.replace(".", "/") + ".py")
    text = path.read_text()
    if attr == "app":
        return path, text
    defs = {n.name: n for n in ast.parse(text).body if isinstance(n, ast.FunctionDef)}
    body = ast.get_source_segment(text, defs[attr]) or ""
    # and the module's functions it hands records to (a batch processor's record handler)
    called = {n.id for n in ast.walk(defs[attr]) if isinstance(n, ast.Name) and n.id in defs and n.id != attr}
    return path, "\n".join([body, *(ast.get_source_segment(text, defs[c]) or "" for c in sorted(called))])


def evidence_holds(function: str, props: dict[str, Any], grant: str, template: dict[str, Any]) -> list[str]:
    """Why this function has this grant, checked against the template and the code; the
    problems found (empty: the grant is used)."""
    problems: list[str] = []
    evidence = PERMISSIONS["grants"][grant]["evidence"]
    env = props.get("Environment", {}).get("Variables", {})
    events = list(props.get("Events", {}).values())
    for name, value in evidence.get("env", {}).items():
        if env.get(name) != value:
            problems.append(f"{function} has {grant} but no {name} = {value}")
    if "event" in evidence:
        wanted = evidence["event"]
        if "OnFailure" in wanted:
            ok = any(
                e["Properties"].get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
                == wanted["OnFailure"]
                for e in events
            )
        else:
            ok = any(
                e["Type"] == wanted["Type"]
                and all(e["Properties"].get(k) == v for k, v in wanted.items() if k != "Type")
                for e in events
            )
        if not ok:
            problems.append(f"{function} has {grant} but no event source {wanted}")
    if "code" in evidence:
        because = PERMISSIONS["functions"][function].get("because", {}).get(grant, [])
        if not because:
            return [*problems, f"{function} has {grant} but says nowhere in the code why"]
        entry_file, entry_symbol = because[0].split("::")
        handler_path, handler_text = handler_source(props["Handler"])
        if props["Handler"] == "app.app":
            # the API function: the first reason is a blueprint that app.py registers
            blueprint = Path(entry_file).stem
            if f"register_blueprint({blueprint}.bp)" not in handler_text:
                problems.append(f"{function}: {entry_file} is not one of its blueprints")
            handler_text = (stack.FUNCTIONS / entry_file).read_text()
        elif stack.FUNCTIONS / entry_file != handler_path:
            problems.append(f"{function}: {entry_file} is not its handler's module {handler_path.name}")
        if entry_symbol not in handler_text:
            problems.append(f"{function}: its handler does not reach {entry_symbol}")
        sources = []
        for reason in because:
            path, symbol = reason.split("::")
            text = (stack.FUNCTIONS / path).read_text()
            sources.append(text)
            if symbol not in text:
                problems.append(f"{function}/{grant}: {symbol} not found in {path}")
        calls = evidence["code"]
        if not any(f".{c}(" in t or f'"{c}"' in t for c in calls for t in sources):
            problems.append(f"{function}/{grant}: none of {because} makes a {calls} call")
    return problems


def test_each_function_has_its_own_role_and_no_shared_role_is_left(template):
    # Given the regional template, when its functions' roles are read
    fns = functions(template)
    roles = [p["Role"]["Fn::GetAtt"][0] for p in fns.values()]
    # Then every function has a role of its own, generated for it, and Chalice's shared one is gone
    assert len(fns) >= 10 and len(set(roles)) == len(roles)
    assert all(template["Resources"][r]["Type"] == "AWS::IAM::Role" for r in roles)
    assert "DefaultRole" not in template["Resources"]
    assert set(fns) == set(PERMISSIONS["functions"])  # a missing entry fails the build instead


def test_no_wildcard_actions_and_nothing_outside_the_region(template):
    for function in functions(template):
        for statement in policy(template, function):
            actions = as_list(statement["Action"])
            # Then no action is a wildcard (no "dynamodb:*", no "*")
            assert all("*" not in a for a in actions), (function, statement)
            # and only actions IAM cannot scope name every resource
            if statement["Resource"] == "*":
                assert set(actions) <= RESOURCE_LESS, (function, statement)
                continue
            for resource in as_list(statement["Resource"]):
                text = json.dumps(resource)
                # every ARN is in this stack's region and account, or one of this stack's resources
                assert not REGION.search(text), (function, resource)
                if "arn:" in text:
                    assert "${AWS::Region}:${AWS::AccountId}" in text, (function, resource)
                for name in re.findall(r"\$\{([A-Za-z0-9]+)(?:\.[A-Za-z]+)?\}", text):
                    assert name in template["Resources"], (function, name)


def test_every_grant_is_used_by_its_function(template):
    problems = []
    for function, props in functions(template).items():
        statements = policy(template, function)
        # Given the function's statements: its own log group first, then its named grants
        assert statements[0]["Sid"] == "OwnLogs"
        assert all(f"${{AWS::StackName}}-{function}" in json.dumps(r) for r in statements[0]["Resource"])
        assert props["FunctionName"] == {"Fn::Sub": "${AWS::StackName}-" + function}
        # When each grant is traced to an event source, an environment variable or the code
        for statement in statements[1:]:
            problems += evidence_holds(function, props, grant_of(statement), template)
    # Then each is used: nothing granted that the function has no reason for
    assert problems == []


def test_sms_is_granted_only_to_the_functions_that_send(template):
    senders = {
        function
        for function in functions(template)
        if any(
            "sns:Publish" in as_list(s["Action"]) and s["Resource"] == "*" for s in policy(template, function)
        )
    }
    # notifications (the ingest stream's consumer), the flow tick, the campaign sender and the
    # API (a ticket's public reply, docs/service.md) and the CSAT tick (the surveys) send; nothing else
    assert senders == {"IngestStream", "FlowTick", "CampaignSender", "APIHandler", "CsatTick"}


def test_the_sla_alerts_are_published_to_their_topic_only(template):
    # Given the functions allowed to publish to a named topic (SMS is published to no topic)
    publishers = {
        function: [s["Resource"] for s in policy(template, function) if "sns:Publish" in as_list(s["Action"])]
        for function in functions(template)
    }
    to_topics = {f: r for f, r in publishers.items() if r and all(x != "*" for x in r)}
    # Then only the SLA check, and only to the ServiceAlerts topic
    assert list(to_topics) == ["SlaCheck"]
    assert "ServiceAlertsTopic" in json.dumps(to_topics["SlaCheck"])


def test_every_event_source_and_queue_the_function_names_is_granted(template):
    # The other direction: an event source or queue the function has but may not use
    missing = []
    for function, props in functions(template).items():
        granted = {grant_of(s) for s in policy(template, function)[1:]}
        for event in props.get("Events", {}).values():
            source = event["Properties"].get("Stream") or event["Properties"].get("Queue")
            if event["Type"] in ("DynamoDB", "SQS"):
                needed = {
                    g
                    for g, spec in PERMISSIONS["grants"].items()
                    if spec["evidence"]
                    .get("event", {})
                    .get("Stream", spec["evidence"].get("event", {}).get("Queue"))
                    == source
                }
                if not needed & granted:
                    missing.append((function, source))
            destination = (
                event["Properties"].get("DestinationConfig", {}).get("OnFailure", {}).get("Destination")
            )
            if destination and "sqs:send:StreamFailureQueue" not in granted:
                missing.append((function, destination))
        queue_url = props.get("Environment", {}).get("Variables", {}).get("PATRON_SEGMENT_EVENTS_QUEUE_URL")
        if queue_url and "sqs:send:SegmentEventsQueue" not in granted:
            missing.append((function, queue_url))
        if "crm:read" not in granted:
            missing.append((function, "CrmTable"))
    assert missing == []


def test_a_function_without_an_entry_fails_the_build(template):
    # Given the template with a new function (say, a loyalty job) that has no entry
    extra = copy.deepcopy(template)
    extra["Resources"]["LoyaltyTick"] = copy.deepcopy(extra["Resources"]["FlowTick"])
    permissions = copy.deepcopy(PERMISSIONS)
    # When roles are generated, then the build stops and names the function
    with pytest.raises(iam.PermissionsError, match="LoyaltyTick has no entry"):
        iam.apply(extra, permissions)
    # and once it has its entry, it gets a role of its own with just its grants
    permissions["functions"]["LoyaltyTick"] = {"grants": ["crm:read"]}
    applied = iam.apply(extra, permissions)
    role = applied["Resources"]["LoyaltyTick"]["Properties"]["Role"]["Fn::GetAtt"][0]
    sids = [
        s["Sid"]
        for s in applied["Resources"][role]["Properties"]["Policies"][0]["PolicyDocument"]["Statement"]
    ]
    assert role == "LoyaltyTickRole" and sids == ["OwnLogs", "CrmRead"]

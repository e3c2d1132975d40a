"""patron.sam: Chalice's SAM expanded into plain CloudFormation, and nothing dropped silently."""

from __future__ import annotations

import pytest

from patron import sam


def function(**extra: object) -> dict[str, object]:
    props = {
        "Runtime": "python3.11",
        "Handler": "chalicelib.handlers.jobs.flow_tick",
        "CodeUri": {"Bucket": "artefacts", "Key": "k/deployment.zip"},
        "Role": {"Fn::GetAtt": ["FlowTickRole", "Arn"]},
        "Events": {"FlowTickEvent": {"Type": "Schedule", "Properties": {"Schedule": "rate(1 minute)"}}},
    }
    return {
        "Transform": sam.TRANSFORM,
        "Resources": {"FlowTick": {"Type": "AWS::Serverless::Function", "Properties": {**props, **extra}}},
    }


def test_a_scheduled_function_becomes_a_function_a_rule_and_the_rule_s_permission():
    # Given a packaged scheduled function; when it is expanded
    expanded = sam.expand(function())
    resources = expanded["Resources"]
    # Then the function's code is in S3, the rule targets it and may invoke it
    assert "Transform" not in expanded
    assert resources["FlowTick"]["Properties"]["Code"] == {
        "S3Bucket": "artefacts",
        "S3Key": "k/deployment.zip",
    }
    rule = resources["FlowTickFlowTickEvent"]["Properties"]
    assert rule["ScheduleExpression"] == "rate(1 minute)" and rule["State"] == "ENABLED"
    assert rule["Targets"][0]["Arn"] == {"Fn::GetAtt": ["FlowTick", "Arn"]}
    permission = resources["FlowTickFlowTickEventPermission"]["Properties"]
    assert permission["SourceArn"] == {"Fn::GetAtt": ["FlowTickFlowTickEvent", "Arn"]}


def test_what_the_expander_does_not_know_stops_the_deploy():
    # A property, an event type or a local code path it cannot expand is never dropped
    with pytest.raises(sam.UnsupportedSam, match="AutoPublishAlias"):
        sam.expand(function(AutoPublishAlias="live"))
    with pytest.raises(sam.UnsupportedSam, match="event type Api"):
        sam.expand(function(Events={"Hook": {"Type": "Api", "Properties": {}}}))
    with pytest.raises(sam.UnsupportedSam, match="not uploaded"):
        sam.expand(function(CodeUri="./deployment.zip"))

"""The composition root: one instance of each adapter, and settings from one factory."""

from __future__ import annotations

import inspect
import subprocess
import sys
from collections import defaultdict
from functools import cached_property, partial
from pathlib import Path
from typing import Any

import boto3
import pytest

from chalicelib.container import Container, container, set_container
from chalicelib.settings import load_settings
from patron.harness import Harness
from patron.stack import StackInfo

INFO = StackInfo(
    stage="wiring",
    region="eu-west-1",
    ingest_table="patron-wiring-ingest",
    crm_table="patron-wiring-crm",
    ingest_stream_arn="arn:aws:dynamodb:eu-west-1:123456789012:table/patron-wiring-ingest/stream/x",
    stream_failure_queue_url="https://sqs.eu-west-1.amazonaws.com/123456789012/failures",
    export_bucket="patron-wiring-exports",
    segment_events_queue_url="https://sqs.eu-west-1.amazonaws.com/123456789012/segment-events",
    campaign_queue_url="https://sqs.eu-west-1.amazonaws.com/123456789012/campaigns",
)
EMBEDDED = "http://127.0.0.1:4566"
ROOT = Path(__file__).resolve().parents[2]


def _services(wiring: Container) -> list[Any]:
    """Every service and adapter the container builds (each property, built once)."""
    names = [
        name
        for name, attr in inspect.getmembers(type(wiring))
        if isinstance(attr, cached_property) and name != "dynamodb"
    ]
    return [getattr(wiring, name) for name in names]


def _adapters_reachable(roots: list[Any]) -> dict[type, set[int]]:
    """The adapter instances the services hold, through their attributes, collections,
    bound methods and partials (an adapter's own helpers, such as its cache, and the AWS
    clients are not entered), by class."""
    found: dict[type, set[int]] = defaultdict(set)
    seen: set[int] = set()
    todo = list(roots)
    while todo:
        obj = todo.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, list | tuple | set | frozenset):
            todo.extend(obj)
            continue
        if isinstance(obj, dict):
            todo.extend(obj.values())
            continue
        if inspect.ismethod(obj):
            todo.append(obj.__self__)
            continue
        if isinstance(obj, partial):
            todo.extend([obj.func, *obj.args, *obj.keywords.values()])
            continue
        module = type(obj).__module__ or ""
        if not module.startswith("chalicelib."):
            continue
        if module.startswith("chalicelib.adapters."):
            found[type(obj)].add(id(obj))
            continue
        todo.extend(getattr(obj, "__dict__", {}).values())
    return found


def test_every_adapter_is_built_once_and_shared_by_every_service_that_uses_it():
    # Given a container for a stage with every optional resource (queues, export bucket)
    session = boto3.session.Session(region_name="eu-west-1")
    wiring = Container(load_settings(INFO), session=session)

    # When every service is built
    services = _services(wiring)

    # Then each adapter class has exactly one instance among them: the limits store the
    # senders, the unsubscribe page, feedback, SMS STOP, exports and campaigns read, the
    # ledger, the member lists, the sweeps, the flow store, the consent store
    instances = _adapters_reachable(services)
    duplicated = {cls.__name__: len(ids) for cls, ids in instances.items() if len(ids) > 1}
    assert duplicated == {}
    # and it is the container's own: the one a test or the CLI reaches as `container.limits`
    for name in ("limits", "ledger", "membership_store", "sweeps", "workspaces", "profile_store"):
        adapter = getattr(wiring, name)
        assert instances[type(adapter)] == {id(adapter)}, name
    # and each AWS service has one client
    assert wiring.client("sqs") is wiring.client("sqs")
    assert wiring.channels.sns is wiring.opted_out_numbers.sns


def test_the_factory_layers_defaults_environment_stack_and_overrides(monkeypatch):
    # Given no read timeout in the environment
    monkeypatch.delenv("PATRON_AWS_READ_TIMEOUT", raising=False)
    monkeypatch.setenv("PATRON_CRM_TABLE", "from-the-environment")

    # When the settings for the embedded AWS are loaded from a stack's outputs
    settings = load_settings(INFO, aws_endpoint_url=EMBEDDED, public_url="http://127.0.0.1:9000")

    # Then the embedded AWS's longer read timeout applies, the stack's outputs beat the
    # environment, and the overrides beat both
    assert settings.aws_read_timeout == 30
    assert settings.aws_endpoint_url == EMBEDDED
    assert (settings.stage, settings.region) == ("wiring", "eu-west-1")
    assert (settings.crm_table, settings.ingest_table) == ("patron-wiring-crm", "patron-wiring-ingest")
    assert settings.campaign_queue_url == INFO.campaign_queue_url
    assert settings.public_url == "http://127.0.0.1:9000"
    # and a region's stage keeps botocore's short timeout
    assert load_settings(INFO).aws_read_timeout == 2


@pytest.fixture
def env_timeout(monkeypatch: pytest.MonkeyPatch) -> float:
    monkeypatch.setenv("PATRON_AWS_READ_TIMEOUT", "7")
    monkeypatch.setenv("PATRON_STAGE", "lambda")
    monkeypatch.setenv("PATRON_INGEST_TABLE", "patron-lambda-ingest")
    monkeypatch.setenv("PATRON_CRM_TABLE", "patron-lambda-crm")
    return 7.0


def test_an_environment_override_reaches_the_app_the_cli_and_the_harness(aws, env_timeout):
    # Given PATRON_AWS_READ_TIMEOUT set in the environment (env_timeout)
    # When the app's container is made, the CLI connects to the embedded AWS, and the
    # test harness provisions a stage
    set_container(None)
    try:
        app = container().settings
    finally:
        set_container(None)
    cli = load_settings(INFO, aws_endpoint_url=EMBEDDED)  # src/patron/cli's one line
    harness = Harness(stage="wiring")
    try:
        # Then all three read it, whatever their own defaults
        assert app.aws_read_timeout == env_timeout
        assert (app.stage, app.crm_table) == ("lambda", "patron-lambda-crm")
        assert cli.aws_read_timeout == env_timeout
        assert harness.settings.aws_read_timeout == env_timeout
        assert harness.container.settings is harness.settings
        # and the harness's stage is still its own (the stack's outputs beat the environment)
        assert (harness.settings.stage, harness.settings.crm_table) == ("wiring", harness.info.crm_table)
    finally:
        harness.close()


def test_loading_the_app_builds_nothing_and_imports_no_adapter_or_aws_sdk():
    # Given a fresh interpreter, as a Lambda's cold start
    script = (
        "import sys, app\n"
        "heavy = ('boto3', 'numpy', 'scipy', 'pydantic_settings', 'chalicelib.settings',\n"
        "         'chalicelib.adapters', 'chalicelib.parsers', 'chalicelib.analytics',\n"
        "         'chalicelib.domain.messaging', 'chalicelib.domain.ingest')\n"
        "print('\\n'.join(m for m in sys.modules if m.startswith(heavy)))\n"
    )

    # When it loads the app (every handler module, the container)
    loaded = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT / "functions", capture_output=True, text=True, check=True
    ).stdout.split()

    # Then no adapter, parser, AWS SDK client, settings or messaging service was imported:
    # each waits for the first request that needs it
    assert loaded == []

"""Tracing: one subsegment per handler, annotated with the correlation ids, when a stage traces."""

from __future__ import annotations

from contextlib import contextmanager

import pytest

from chalicelib.handlers import tracing


class FakeSubsegment:
    def __init__(self, name: str) -> None:
        self.name = name
        self.annotations: dict[str, str] = {}
        self.exceptions: list[BaseException] = []

    def put_annotation(self, key: str, value: str) -> None:
        self.annotations[key] = value

    def add_exception(self, exc: BaseException, stack: object = None) -> None:
        self.exceptions.append(exc)


class FakeProvider:
    def __init__(self) -> None:
        self.subsegments: list[FakeSubsegment] = []

    @contextmanager
    def in_subsegment(self, name: str):
        subsegment = FakeSubsegment(name)
        self.subsegments.append(subsegment)
        yield subsegment


class FakeTracer:
    def __init__(self) -> None:
        self.provider = FakeProvider()


@pytest.fixture
def traced_stage(monkeypatch):
    fake = FakeTracer()
    monkeypatch.setenv("PATRON_TRACING", "active")
    monkeypatch.setenv("AWS_LAMBDA_FUNCTION_NAME", "patron-test-APIHandler")
    tracing.set_tracer(fake)
    yield fake
    tracing.set_tracer(None)


def test_each_api_call_runs_in_a_subsegment_annotated_with_its_workspace(stage, ws, traced_stage):
    # When an admin call is made
    response = stage.get(ws, "/segments")
    # Then it ran in one subsegment, annotated with the workspace (no personal data)
    assert response.status_code == 200
    (subsegment,) = traced_stage.provider.subsegments
    assert subsegment.name.startswith("## ")
    assert subsegment.annotations == {"workspace_id": ws.workspace_id}


def test_a_failing_handler_records_its_error_on_the_subsegment(traced_stage):
    with pytest.raises(RuntimeError), tracing.traced("job", lambda: {}):
        raise RuntimeError("boom")
    (subsegment,) = traced_stage.provider.subsegments
    assert [str(e) for e in subsegment.exceptions] == ["boom"]


def test_nothing_is_traced_unless_the_stage_says_so(stage, ws, monkeypatch):
    fake = FakeTracer()
    tracing.set_tracer(fake)
    monkeypatch.delenv("PATRON_TRACING", raising=False)
    try:
        assert stage.get(ws, "/segments").status_code == 200
    finally:
        tracing.set_tracer(None)
    assert fake.provider.subsegments == []

"""X-Ray tracing through Powertools' Tracer, switched on per stage (`PATRON_TRACING=active`).

The Tracer imports the X-Ray SDK and patches botocore, about 230 ms: too much for every
cold start when a stage does not trace. So it is built on the first traced invocation,
only inside Lambda with tracing switched on, and every handler runs in one subsegment
(`## <function>`) that records its error, if any. AWS calls made meanwhile appear as
their own subsegments (botocore is patched).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

_tracer: Any = None


def active() -> bool:
    return os.environ.get("PATRON_TRACING") == "active" and bool(os.environ.get("AWS_LAMBDA_FUNCTION_NAME"))


def tracer() -> Any:
    global _tracer
    if _tracer is None:
        from aws_lambda_powertools import Tracer  # the X-Ray SDK: only where tracing is active

        _tracer = Tracer(service="patron")
    return _tracer


def set_tracer(value: Any) -> None:
    """For tests: a stand-in tracer (None builds the real one again when needed)."""
    global _tracer
    _tracer = value


@contextmanager
def traced(name: str, annotations: Callable[[], dict[str, str]]) -> Iterator[None]:
    """Run a handler in its subsegment when tracing is active; else just run it."""
    if not active():
        yield
        return
    with tracer().provider.in_subsegment(f"## {name}") as subsegment:
        try:
            yield
        except Exception as exc:
            subsegment.add_exception(exc, stack=None)
            raise
        finally:
            for key, value in annotations().items():
                subsegment.put_annotation(key, value)

"""`patron demo --keep-running` in its own process (the embedded AWS is per process), as the
browser tests and the schemathesis run use it: started, read until it is ready, stopped as a
user stops it (SIGTERM) whatever happened, and expected to exit cleanly."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.e2e.test_local_stack import PATRON, free_port

COMMAND = [PATRON, "demo", "--customers", "40", "--seed", "3", "--keep-running"]


@dataclass(frozen=True)
class Demo:
    url: str  # the local stack's API, http://127.0.0.1:PORT
    summary: str  # what the demo printed up to its "ready URL" line
    cli: Callable[..., str]  # `patron ARGS` against this stack: its stdout (exit 0 asserted)


@contextmanager
def demo_process(home: Path, extra_env: dict[str, str] | None = None) -> Iterator[Demo]:
    env = {**os.environ, "PATRON_STATE_DIR": str(home), "PYTHONUNBUFFERED": "1", **(extra_env or {})}
    for name in ("AWS_PROFILE", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        env.pop(name, None)
    port, aws_port = free_port(), free_port()
    with open(home / "demo-progress.log", "w") as progress:
        process = subprocess.Popen(
            [*COMMAND, "--port", str(port), "--aws-port", str(aws_port)],
            env=env,
            stdout=subprocess.PIPE,
            stderr=progress,
            text=True,
        )
        try:  # stopped whatever happens, a failed start included
            assert process.stdout is not None
            printed = []
            for line in process.stdout:  # the summary, the console line, then "ready URL"
                printed.append(line)
                if line.startswith("ready "):
                    break
            summary = "".join(printed)
            assert f"ready http://127.0.0.1:{port}" in summary, summary[-2000:]
            assert "match the simulated truth" in summary, summary[-2000:]

            def cli(*args: str) -> str:
                done = subprocess.run([PATRON, *args], env=env, capture_output=True, text=True, timeout=120)
                assert done.returncode == 0, done.stderr
                return done.stdout

            yield Demo(f"http://127.0.0.1:{port}", summary, cli)
        finally:
            process.send_signal(signal.SIGTERM)
            process.communicate(timeout=60)
    assert process.returncode == 0

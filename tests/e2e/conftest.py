"""One demo store for the browser tests and the schemathesis run (tests/e2e/demo_process.py):
started once when the first of them asks for it, stopped when the run leaves tests/e2e (a
package fixture: its pollers do not go on running beside the integration and unit tests).
The console's tests run first (test_console.py sorts before test_schema_api.py; under xdist
both are one group on one worker, in that order: tests/conftest.py), so the generated
requests' writes never reach the figures the browser compares."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.e2e.demo_process import Demo, demo_process

# The schemathesis run makes hundreds of calls a minute: the per-workspace request limit is
# raised for this stack (documented and tested elsewhere; here it would only hide the rest).
LIMIT = {"PATRON_ADMIN_REQUESTS_PER_MINUTE": "1000000"}


@pytest.fixture(scope="package")
def shared_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    with demo_process(tmp_path_factory.mktemp("patron-state"), LIMIT) as running:
        yield running

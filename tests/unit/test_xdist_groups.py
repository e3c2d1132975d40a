"""Which tests `make test` keeps on one xdist worker (tests/conftest.py): the demo stack's
users, the Chalice builds, and the tests of a module that share a module fixture."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from tests.conftest import CHALICE_PACKAGE_GROUP, SHARED_DEMO_GROUP, _name_group, xdist_group_of


def item(nodeid: str, fixtures: dict[str, str], marks: tuple[str, ...] = ()) -> Any:
    """A collected test as the grouping reads it: its id, its fixtures' scopes, its marks."""
    definitions = {name: [SimpleNamespace(scope=scope)] for name, scope in fixtures.items()}
    return SimpleNamespace(
        nodeid=nodeid,
        fixturenames=list(fixtures),
        _fixtureinfo=SimpleNamespace(name2fixturedefs=definitions),
        get_closest_marker=lambda name: object() if name in marks else None,
    )


def test_the_demo_stacks_users_share_one_group_whatever_their_module():
    # Given a browser test and a schemathesis test, each through its module's own fixture
    console = item("tests/e2e/test_console.py::test_a", {"demo": "module", "shared_demo": "package"})
    schema = item("tests/e2e/test_schema_api.py::test_b", {"stack": "module", "shared_demo": "package"})
    # When they are grouped
    groups = {xdist_group_of(console), xdist_group_of(schema)}
    # Then both go to the demo's one group, not to their modules'
    assert groups == {SHARED_DEMO_GROUP}


def test_every_chalice_build_is_in_one_group_and_a_module_fixture_keeps_its_module_together():
    # Given a slow test (a Chalice build), a test on a module's stack and a plain test
    build = item("tests/integration/test_package.py::test_a", {"package": "module"}, ("slow",))
    stack = item("tests/e2e/test_local_stack.py::test_b[x]", {"local": "module", "tmp_path": "function"})
    plain = item("tests/unit/test_money.py::test_c", {"tmp_path": "function", "_suite_now": "function"})
    # When they are grouped
    # Then the build joins the builds, the stack's test its module, the plain test no group
    assert xdist_group_of(build) == CHALICE_PACKAGE_GROUP
    assert xdist_group_of(stack) == "tests/e2e/test_local_stack.py"
    assert xdist_group_of(plain) is None


@pytest.mark.parametrize("value", ["plain", "p@q"])
def test_the_group_is_named_in_the_id_where_xdist_reads_it(request: pytest.FixtureRequest, value: str):
    # Given this very test, a real pytest item, parametrized (a parameter may hold an "@")
    node, before = request.node, request.node.nodeid
    try:
        # When its group is named in its id
        _name_group(node, "shared-demo")
        named = node.nodeid
    finally:
        node._id = type(node._id).parse(before)  # its own id back before it is reported
    # Then the id ends with the group after the parameters, as xdist's loadgroup splits it
    assert named == f"{before}@shared-demo"
    assert named.rfind("@") > named.rfind("]")

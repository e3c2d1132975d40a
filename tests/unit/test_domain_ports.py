"""The domain's ports live in one place and its services take typed collaborators."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import pytest

import chalicelib.domain as domain
from chalicelib.domain import backfill, enrolment, membership, nightly, privacy, segment_service

DOMAIN = Path(domain.__file__).parent
# customers.EngagementReader speaks messaging's EngagementView: the ports module imports
# nothing from messaging (messaging may import it), so that one stays with its service.
LEFT_WITH_THEIR_SERVICE = {("customers.py", "EngagementReader")}


def protocols_outside_ports() -> list[tuple[str, str]]:
    found = []
    for path in sorted(DOMAIN.glob("*.py")):
        if path.name == "ports.py" or path.name.endswith("_ports.py"):  # ports.py is full: ops_ports.py
            continue
        for node in ast.parse(path.read_text()).body:
            if isinstance(node, ast.ClassDef) and any(
                isinstance(b, ast.Name) and b.id == "Protocol" for b in node.bases
            ):
                found.append((path.name, node.name))
    return found


def test_every_protocol_of_the_domain_outside_messaging_is_in_ports():
    # Given the domain's modules (messaging keeps its own ports)
    # When their Protocol classes are listed
    outside = set(protocols_outside_ports())
    # Then each one is in domain/ports.py, but the one that speaks a messaging type
    assert outside == LEFT_WITH_THEIR_SERVICE


@pytest.mark.parametrize(
    ("service", "parameter"),
    [
        (membership.MembershipService, "profiles"),
        (backfill.BackfillService, "membership"),
        (backfill.BackfillService, "profiles"),
        (nightly.ScoringService, "workspaces"),
        (nightly.ScoringService, "membership"),
        (nightly.ScoringService, "fitter"),
        (segment_service.SegmentService, "workspaces"),
        (enrolment.EnrolmentService, "profiles"),
        (enrolment.EnrolmentService, "store"),
    ],
)
def test_services_take_typed_collaborators(service, parameter):
    # Given a service's constructor
    annotation = inspect.signature(service.__init__).parameters[parameter].annotation
    # Then the collaborator is typed by a port (or a callable), never Any
    assert annotation != "Any"
    assert "Any" not in annotation.split("[")[0]


def test_the_privacy_service_names_the_port_of_its_source_eraser():
    # Given the privacy service's hook for shop/redact's executor
    annotation = inspect.signature(privacy.PrivacyService.__init__).parameters["source_erasure"].annotation
    # Then it is a port, not Any
    assert annotation == "SourceEraser | None"


def test_the_domain_messaging_included_imports_at_module_level_only():
    # Given the domain's modules (function-level imports hid an import cycle among them)
    hidden = []
    for path in sorted(DOMAIN.rglob("*.py")):
        tree = ast.parse(path.read_text())
        top = {id(node) for node in tree.body}
        for node in tree.body:  # `if TYPE_CHECKING:` imports cost nothing at run time
            if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING":
                top |= {id(n) for n in node.body}
        for node in ast.walk(tree):
            if isinstance(node, ast.Import | ast.ImportFrom) and id(node) not in top:
                hidden.append(f"{path.relative_to(DOMAIN)}:{node.lineno}")
    # When their imports are listed, Then every one is at module level
    assert hidden == []

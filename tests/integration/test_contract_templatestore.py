"""The TemplateStore port's contract: one scenario suite, run against an in-memory store and
the DynamoDB adapter on moto; and the template item's layout, which the adapter keeps."""

from __future__ import annotations

from collections.abc import Iterator

import boto3
import pytest

from chalicelib.adapters.crm_table import CrmTable
from chalicelib.adapters.messaging import DynamoTemplates, template_from_item
from chalicelib.domain.errors import Conflict
from chalicelib.domain.messaging.model import Template
from chalicelib.domain.messaging.ports import TemplateStore
from tests.unit.test_motofast import create_pk_sk_table

WS = "ws_1"


class FakeTemplateStore:
    """The in-memory TemplateStore: the latest version per template, saved on the version read."""

    def __init__(self) -> None:
        self.latest_: dict[tuple[str, str], Template] = {}

    def save(self, workspace_id: str, template: Template, name: str, previous: int | None) -> None:
        current = self.latest_.get((workspace_id, template.template_id))
        if (current.version if current else None) != previous:
            raise Conflict("the template changed meanwhile; reload it and save again")
        self.latest_[(workspace_id, template.template_id)] = Template(
            template.template_id,
            template.version,
            template.subject,
            template.html,
            template.text,
            template.sms,
            name=name,
        )

    def get(self, workspace_id: str, template_id: str) -> Template | None:
        return self.latest_.get((workspace_id, template_id))

    def latest(self, workspace_id: str, template_id: str) -> Template:
        template = self.get(workspace_id, template_id)
        if template is None:
            raise LookupError(f"template {template_id} not found")
        return template

    def list(self, workspace_id: str) -> list[Template]:
        return [t for (w, _), t in sorted(self.latest_.items()) if w == workspace_id]


@pytest.fixture(params=["fake", "dynamodb"])
def store(request: pytest.FixtureRequest) -> Iterator[TemplateStore]:
    if request.param == "fake":
        yield FakeTemplateStore()
        return
    request.getfixturevalue("aws")
    client = boto3.client("dynamodb", region_name="us-east-1")
    create_pk_sk_table(client, "crm")
    yield DynamoTemplates(CrmTable(client, "crm"))


def news(version: int, subject: str = "Hello") -> Template:
    return Template("news", version, subject=subject, html="<p>Hi</p>", text="Hi")


def test_a_template_is_saved_and_read_back_with_its_name(store: TemplateStore):
    # Given a new template
    store.save(WS, news(1), "Newsletter", None)
    # When it is read
    found = store.get(WS, "news")
    # Then it is the saved version, named
    assert found == Template("news", 1, "Hello", "<p>Hi</p>", "Hi", "", name="Newsletter")
    assert store.list(WS) == [found]
    assert store.get(WS, "nope") is None and store.get("ws_2", "news") is None


def test_a_new_version_is_saved_only_on_the_version_it_was_made_from(store: TemplateStore):
    # Given a template at version 1, and version 2 saved on it
    store.save(WS, news(1), "Newsletter", None)
    store.save(WS, news(2, "Second"), "Newsletter", 1)
    # When a version made from the stale version 1 is saved, or a second "first" version
    with pytest.raises(Conflict):
        store.save(WS, news(2, "Stale"), "Newsletter", 1)
    with pytest.raises(Conflict):
        store.save(WS, news(1, "Again"), "Newsletter", None)
    # Then the latest is the second
    assert store.get(WS, "news").subject == "Second"
    assert store.list(WS)[0].version == 2


def test_the_template_item_maps_to_the_domain_type():
    # Given the latest-version item as DynamoTemplates stores it
    item = {
        "pk": "W#ws_1#TPL",
        "sk": "news",
        "t": "template",
        "name": "Newsletter",
        "ver": 3,
        "ua": "2026-11-23T12:00:00.000000Z",
        "subject": "Hello",
        "html": "<p>Hi</p>",
        "text": "Hi",
        "sms": "",
    }
    # Then it reads as the template, its id from the sort key
    assert template_from_item(item) == Template("news", 3, "Hello", "<p>Hi</p>", "Hi", "", name="Newsletter")

"""Local time that is local, end to end: an order's address gives the profile its zone,
quiet hours follow it, and the sending rules and default zone are workspace settings."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from chalicelib.domain.customer_profile import CustomerProfile
from chalicelib.domain.errors import BadRequest
from chalicelib.domain.identity import customer_id_for
from chalicelib.domain.messaging import sending
from chalicelib.domain.messaging.model import Channel, Purpose, policy_for
from tests.conftest import event_bytes
from tests.integration.conftest import SHOP
from tests.integration.test_flows import FLOWS, runs

LA = ZoneInfo("America/Los_Angeles")


def order_from(stage, ws, email: str, country: str | None, province: str | None, phone: str | None) -> dict:
    """A consented Shopify order shipped to the address; the profile it makes."""
    body = json.loads(event_bytes("shopify/orders_create.json"))
    body["customer"]["email_marketing_consent"] = {"state": "subscribed", "opt_in_level": "single_opt_in"}
    body["email"] = body["contact_email"] = body["customer"]["email"] = email
    body["phone"] = body["customer"]["phone"] = phone
    for address in ("shipping_address", "billing_address"):
        body[address].update(country_code=country, province_code=province, phone=phone)
    body["customer"]["default_address"].update(country_code=country, province_code=province, phone=phone)
    stage.send(ws, "shopify", "orders/create", json.dumps(body).encode())
    stage.drain()
    salt = stage.container.workspaces.settings(ws.workspace_id).id_salt
    customer_id = customer_id_for(salt, f"email:{email}")
    return stage.container.profile_store.load(ws.workspace_id, customer_id)


def check_at(stage, ws, profile: CustomerProfile, at: datetime):
    policy = policy_for(stage.container.workspaces.settings(ws.workspace_id))
    return stage.container.messaging.check(
        Channel.EMAIL, Purpose.MARKETING, ws.workspace_id, profile.customer_id, profile, policy, at
    )


def test_quiet_hours_are_the_los_angeles_customers_own(frozen_now, stage, ws):
    # Given a customer whose order ships to California (no zone of its own, a +1 phone)
    stage.container.workspaces.set_messaging(ws.workspace_id, [], "news@demo-brand.example", None)
    profile = order_from(stage, ws, "ana.la@example.com", "US", "CA", "+1 213 555 0147")
    day = frozen_now.astimezone(LA).date() + timedelta(days=1)
    # When a marketing email would go at 01:30 her time (09:30 or 08:30 UTC: daytime in UTC)
    night = check_at(stage, ws, profile, datetime.combine(day, time(1, 30), tzinfo=LA))
    # Then it is held until 09:00 her time
    assert (night.status, night.reason) == ("deferred", "quiet hours")
    assert night.until == datetime.combine(day, time(9), tzinfo=LA)
    # And at 10:30 her time it may go: her profile's zone is her address's
    assert check_at(stage, ws, profile, datetime.combine(day, time(10, 30), tzinfo=LA)).status == "ok"
    assert profile.timezone == "America/Los_Angeles"


def test_workspace_settings_override_the_default_sending_rules(frozen_now, stage, ws):
    # Given a workspace with today's defaults
    settings = stage.container.workspaces.settings(ws.workspace_id)
    assert sending.shown(settings) | {"defaults": None} == {
        "quiet_hours": "21-09",
        "daily_caps": {"high": 2, "medium": 1},
        "low_every_days": 3,
        "default_timezone": "UTC",
        "no_marketing_on_open_complaint": True,
        "defaults": None,
    }
    # When the operator sets quiet hours, caps, spacing and the default zone
    values = sending.changes(settings, "22-7", "high=4", 5, "Europe/Madrid")
    stage.container.workspaces.set_sending(ws.workspace_id, values)
    # Then the policy every send uses has them (medium keeps its default)
    policy = policy_for(stage.container.workspaces.settings(ws.workspace_id))
    assert (policy.quiet_start, policy.quiet_end, policy.low_every_days) == (22, 7, 5)
    assert policy.daily_caps == {"high": 4, "medium": 1, "low": 1}
    assert policy.default_timezone == "Europe/Madrid"
    # And a customer with no address country nor phone is quiet from 22:00 Madrid time
    stage.container.workspaces.set_messaging(ws.workspace_id, [], "news@demo-brand.example", None)
    profile = order_from(stage, ws, "noaddress@example.com", None, None, None)
    assert profile.timezone is None
    madrid = ZoneInfo("Europe/Madrid")
    day = frozen_now.astimezone(madrid).date() + timedelta(days=1)
    assert check_at(stage, ws, profile, datetime.combine(day, time(21, 30), tzinfo=madrid)).status == "ok"
    late = check_at(stage, ws, profile, datetime.combine(day, time(22, 30), tzinfo=madrid))
    assert (late.status, late.until) == (
        "deferred",
        datetime.combine(day + timedelta(days=1), time(7), madrid),
    )


@pytest.mark.parametrize(
    ("quiet", "caps", "days", "zone"),
    [
        ("21", None, None, None),
        ("9-24", None, None, None),
        (None, "low=2", None, None),
        (None, "high=0", None, None),
        (None, None, 0, None),
        (None, None, None, "Mars/Olympus"),
    ],
)
def test_sending_settings_out_of_range_are_refused(stage, ws, quiet, caps, days, zone):
    # When an operator asks for a setting out of range, Then it is refused, naming it
    settings = stage.container.workspaces.settings(ws.workspace_id)
    with pytest.raises(BadRequest):
        sending.changes(settings, quiet, caps, days, zone)


def test_a_shopify_shops_zone_becomes_the_workspace_default_unless_it_has_one(stage):
    # Given a new workspace, and a Shopify source with the shop's iana_timezone
    ws = stage.create_workspace("Zone Brand", "EUR")
    stage.container.tenancy.add_source(
        ws.workspace_id, "shopify", "zone-1." + SHOP, "s" * 20, None, "Europe/Lisbon"
    )
    # Then it is the workspace's default zone
    assert stage.container.workspaces.settings(ws.workspace_id).default_timezone == "Europe/Lisbon"
    # When a second shop in another zone is added, Then the first stays
    stage.container.tenancy.add_source(
        ws.workspace_id, "shopify", "zone-2." + SHOP, "s" * 20, None, "Asia/Tokyo"
    )
    assert stage.container.workspaces.settings(ws.workspace_id).default_timezone == "Europe/Lisbon"
    # And an unknown zone is refused
    with pytest.raises(BadRequest):
        stage.container.tenancy.add_source(
            ws.workspace_id, "shopify", "zone-3." + SHOP, "s" * 20, None, "Lisbon"
        )


def test_a_shopify_birth_date_metafield_starts_the_birthday_flow_at_sydney_midnight(frozen_now, stage, ws):
    sydney = ZoneInfo("Australia/Sydney")
    stage.container.flows.apply(ws.workspace_id, json.loads((FLOWS / "birthday.json").read_text()))
    # Given a Shopify customer in New South Wales whose facts.birth_date is ten days from
    # today there (born in a leap year, so every day of the calendar exists)
    birthday = frozen_now.astimezone(sydney).date() + timedelta(days=10)
    body = json.loads(event_bytes("shopify/customers_create.json"))
    body["default_address"].update(country_code="AU", province_code="NSW")
    body["metafields"] = [{"namespace": "facts", "key": "birth_date", "value": f"1992-{birthday:%m-%d}"}]
    # When the webhook is processed
    stage.send(ws, "shopify", "customers/create", json.dumps(body).encode())
    stage.drain()
    # Then the profile has the birthday and the zone, and the run waits for midnight in Sydney
    salt = stage.container.workspaces.settings(ws.workspace_id).id_salt
    cid = customer_id_for(salt, "email:jane.doe@example.com")
    profile = stage.container.profile_store.get(ws.workspace_id, cid)
    assert (profile["bd"], profile["tz"]) == (f"{birthday:%m-%d}", "Australia/Sydney")
    run = runs(stage, ws, cid)["birthday"]
    midnight = datetime.combine(birthday, time(0), tzinfo=sydney).astimezone(UTC)
    assert run["run_id"] == f"birthday#{birthday.year}"
    assert run["due"].startswith(f"{midnight:%Y-%m-%dT%H:%M:%S}")


def test_the_cli_sets_and_shows_the_sending_settings(stage, ws, monkeypatch, capsys):
    import patron.cli

    monkeypatch.setattr(patron.cli, "_container", lambda args: stage.container)
    # When the operator sets quiet hours, a cap and the default zone from the command line
    assert patron.cli.main(["workspace", "sending", ws.workspace_id, "--quiet-hours", "22-7"]) == 0
    code = patron.cli.main(
        ["workspace", "sending", ws.workspace_id, "--caps", "high=3", "--default-timezone", "Europe/Lisbon"]
    )
    assert code == 0
    capsys.readouterr()
    # Then `workspace show` lists them, beside today's defaults
    assert patron.cli.main(["workspace", "show", ws.workspace_id, "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)["sending"]
    assert shown["quiet_hours"] == "22-07" and shown["daily_caps"] == {"high": 3, "medium": 1}
    assert (shown["low_every_days"], shown["default_timezone"]) == (3, "Europe/Lisbon")
    assert shown["defaults"]["quiet_hours"] == "21-09"
    # And a value out of range is an error, changing nothing
    assert patron.cli.main(["workspace", "sending", ws.workspace_id, "--quiet-hours", "25-7"]) == 2
    assert policy_for(stage.container.workspaces.settings(ws.workspace_id)).quiet_start == 22


def test_a_shopify_shop_update_gives_the_shops_zone_to_the_source_and_the_workspace(stage):
    # Given a new workspace with a Shopify source added without a zone
    ws = stage.create_workspace("Shop Zone Brand", "USD")
    stage.add_source(ws, "shopify", "zone-update." + SHOP, "z" * 24)
    assert stage.container.workspaces.settings(ws.workspace_id).default_timezone == "UTC"
    body = json.loads(event_bytes("shopify/shop_update.json"))
    # When Shopify sends shop/update with the shop's iana_timezone, twice
    first = stage.send(ws, "shopify", "shop/update", body)
    again = stage.send(ws, "shopify", "shop/update", body)
    # Then the source and the workspace's default zone are the shop's, written once
    assert [json.loads(r.body)["status"] for r in (first, again)] == ["stored", "duplicate"]
    assert stage.container.workspaces.settings(ws.workspace_id).default_timezone == "America/Los_Angeles"
    (source,) = stage.container.workspaces.sources(ws.workspace_id)
    assert source["tz"] == "America/Los_Angeles"
    # When the shop moves to another zone, Then the source follows and the default set stays
    moved = stage.send(ws, "shopify", "shop/update", body | {"iana_timezone": "America/New_York"})
    assert json.loads(moved.body)["status"] == "stored"
    assert stage.container.workspaces.sources(ws.workspace_id)[0]["tz"] == "America/New_York"
    assert stage.container.workspaces.settings(ws.workspace_id).default_timezone == "America/Los_Angeles"
    # And a zone no runtime knows is a clear error, the body kept for replay
    bad = stage.send(ws, "shopify", "shop/update", body | {"iana_timezone": "Pacific Time"})
    answer = json.loads(bad.body)
    assert bad.status_code == 400 and answer["quarantine_id"]
    assert [d["field"] for d in answer["details"]] == ["iana_timezone"]

"""Messaging adapters: the send ledger, caps, suppressions and credits in the CRM table;
templates; SES (email) and SNS (SMS)."""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Mapping
from datetime import datetime, timedelta
from decimal import Decimal
from email.message import EmailMessage
from typing import Any

from chalicelib.adapters.codec import to_item
from chalicelib.adapters.crm_table import CrmTable, counter_update
from chalicelib.domain.errors import Conflict
from chalicelib.domain.messaging.service import BulkEmail, BulkResult, Template, Throttled
from chalicelib.domain.messaging.stats import COUNTERS
from chalicelib.domain.models import now_utc
from chalicelib.domain.timemath import iso

LEDGER_DAYS = 400  # a message key is remembered this long
THROTTLE_CODES = {"Throttling", "ThrottlingException", "MaxSendingRateExceeded", "TooManyRequestsException"}
PASSTHROUGH_TEMPLATE = "patron-passthrough-v1"
# SendBulkTemplatedEmail statuses per destination that mean "not sent, try again later";
# any other status but Success is a rejection of that destination.
BULK_RETRY_STATUSES = {
    "AccountThrottled",
    "AccountDailyQuotaExceeded",
    "AccountSendingPaused",
    "ConfigurationSetSendingPaused",
    "TransientFailure",
    "Failed",
}


BULK_V2_RETRY_STATUSES = {
    "ACCOUNT_THROTTLED",
    "ACCOUNT_DAILY_QUOTA_EXCEEDED",
    "ACCOUNT_SENDING_PAUSED",
    "CONFIGURATION_SET_SENDING_PAUSED",
    "TRANSIENT_FAILURE",
    "FAILED",
}


def _passthrough_data(email: BulkEmail) -> str:
    """One destination's template data: Patron's rendered texts, printed by the template."""
    return json.dumps({"subject": email.subject, "html": email.html, "text": email.text or " "})


def _ses_tags(email: BulkEmail) -> list[dict[str, str]]:
    return [{"Name": k, "Value": _tag(v)} for k, v in email.tags.items()]


def _bulk_results(entries: list[dict[str, Any]], success: str, retry: set[str]) -> list[BulkResult]:
    """SES's per-destination answers (v1 `Status`, v2 `BulkEmailEntryResults`): sent, to
    retry later (nothing was sent), or rejected for good."""
    results = []
    for entry in entries:
        code = entry.get("Status", success)
        if code == success:
            results.append(BulkResult("sent", str(entry["MessageId"])))
        elif code in retry:
            results.append(BulkResult("retry", code))
        else:
            results.append(BulkResult("rejected", f"{code}: {entry.get('Error', '')}"[:200]))
    return results


def _key(pk: str, sk: str) -> dict[str, Any]:
    return {"pk": {"S": pk}, "sk": {"S": sk}}


HELD_PK = "NOTEHELD"


class DynamoHeldNotifications:
    """`NOTEHELD` / `<ws>#<ingest key>`: orders whose notifications the provider refused
    for now (domain/pipeline.py). One partition for all workspaces: it is written only
    while a provider throttles, and emptied by the minute job."""

    def __init__(self, table: CrmTable) -> None:
        self.t = table

    def hold(self, workspace_id: str, item_key: str, at: datetime) -> None:
        self.t.put({"pk": HELD_PK, "sk": f"{workspace_id}#{item_key}", "t": "held", "at": iso(at)})

    def held(self, limit: int) -> list[tuple[str, str]]:
        items, _ = self.t.query(HELD_PK, limit=limit, newest_first=False)
        out = []
        for item in items:
            workspace_id, _, item_key = str(item["sk"]).partition("#")  # workspace ids have no '#'
            out.append((workspace_id, item_key))
        return out

    def release(self, workspace_id: str, item_key: str) -> None:
        self.t.client.delete_item(TableName=self.t.table, Key=_key(HELD_PK, f"{workspace_id}#{item_key}"))


class DynamoLedger:
    """`W#<ws>#MSG#<cid>` / `<message key>`: claimed once, then sent, dropped or refused."""

    def __init__(self, table: CrmTable) -> None:
        self.t = table

    def claim(self, workspace_id: str, customer_id: str, key: str, now: datetime, lease: timedelta) -> str:
        try:
            self.t.client.put_item(
                TableName=self.t.table,
                Item={
                    **_key(f"W#{workspace_id}#MSG#{customer_id}", key),
                    "t": {"S": "message"},
                    "st": {"S": "sending"},
                    "lease": {"S": iso(now + lease) or ""},
                    "at": {"S": iso(now) or ""},
                    "ttl": {"N": str(int((now + timedelta(days=LEDGER_DAYS)).timestamp()))},
                },
                # a claim whose lease ran out (a crash before the provider answered) is retaken,
                # unless SES reported it sent (`ev_send`): then the crash came after the send
                ConditionExpression=(
                    "attribute_not_exists(pk) OR "
                    "(st = :sending AND lease < :now AND attribute_not_exists(ev_send))"
                ),
                ExpressionAttributeValues={":sending": {"S": "sending"}, ":now": {"S": iso(now) or ""}},
            )
        except self.t.client.exceptions.ConditionalCheckFailedException:
            held = self.t.get(f"W#{workspace_id}#MSG#{customer_id}", key, consistent=True)
            if held and held.get("st") == "sending" and held.get("ev_send"):
                self.confirm_sent(workspace_id, customer_id, key, "reported sent by SES")
                return "done"
            return "busy" if held and held.get("st") == "sending" else "done"
        return "claimed"

    def confirm_sent(self, workspace_id: str, customer_id: str, key: str, provider_id: str) -> None:
        """SES's Send event: a claim still `sending` (its sender died after SES accepted the
        message) becomes `sent`; a claim already finished is left as it is."""
        try:
            self.t.client.update_item(
                TableName=self.t.table,
                Key=_key(f"W#{workspace_id}#MSG#{customer_id}", key),
                UpdateExpression="SET st = :sent, detail = :d REMOVE lease",
                ConditionExpression="st = :sending",
                ExpressionAttributeValues={
                    ":sent": {"S": "sent"},
                    ":sending": {"S": "sending"},
                    ":d": {"S": provider_id[:500]},
                },
            )
        except self.t.client.exceptions.ConditionalCheckFailedException:
            return  # finished already (the usual case), or no claim (a test send)

    def finish(self, workspace_id: str, customer_id: str, key: str, status: str, detail: str) -> None:
        self.t.client.update_item(
            TableName=self.t.table,
            Key=_key(f"W#{workspace_id}#MSG#{customer_id}", key),
            UpdateExpression="SET st = :s, detail = :d REMOVE lease",
            ExpressionAttributeValues={":s": {"S": status}, ":d": {"S": detail[:500]}},
        )

    def release(self, workspace_id: str, customer_id: str, key: str) -> None:
        try:
            self.t.client.delete_item(
                TableName=self.t.table,
                Key=_key(f"W#{workspace_id}#MSG#{customer_id}", key),
                ConditionExpression="st = :sending",
                ExpressionAttributeValues={":sending": {"S": "sending"}},
            )
        except self.t.client.exceptions.ConditionalCheckFailedException:
            return  # already finished (a refusal or a drop): nothing to free

    def record_event(
        self,
        workspace_id: str,
        customer_id: str,
        key: str,
        event: str,
        at: str,
        counts: dict[str, dict[str, int]] | None = None,
    ) -> bool:
        """`ev_<event>`: when SES reported it (send, delivery, open, click, bounce, complaint),
        set once. With `counts`, the statistics are added in the same transaction, so the
        first report of an event counts exactly once. False if already recorded (or no claim)."""
        claim_update = {
            "TableName": self.t.table,
            "Key": _key(f"W#{workspace_id}#MSG#{customer_id}", key),
            "UpdateExpression": "SET #e = :at",
            "ConditionExpression": "attribute_exists(pk) AND attribute_not_exists(#e)",
            "ExpressionAttributeNames": {"#e": f"ev_{event}"},
            "ExpressionAttributeValues": {":at": {"S": at}},
        }
        if not counts:
            try:
                self.t.client.update_item(**claim_update)
            except self.t.client.exceptions.ConditionalCheckFailedException:
                return False  # recorded before, or a message with no claim (a test send)
            return True
        return once_with_counts(self.t, workspace_id, {"Update": claim_update}, counts)

    def entries(self, workspace_id: str, customer_id: str) -> list[dict[str, Any]]:
        items, _ = self.t.query(f"W#{workspace_id}#MSG#{customer_id}", limit=100)
        return items


def transact_once(table: CrmTable, actions: list[dict[str, Any]]) -> bool:
    """All of `actions` or none; False when the first one's condition (the guard that makes
    it happen once) failed, any other cancellation raised."""
    try:
        table.client.transact_write_items(TransactItems=actions)
    except table.client.exceptions.TransactionCanceledException as exc:
        reasons = exc.response.get("CancellationReasons") or []
        if reasons and reasons[0].get("Code") == "ConditionalCheckFailed":
            return False
        raise
    return True


STATS_SHARDS = 16  # SES events spread over this many partitions per workspace (see below)


def stats_keys(workspace_id: str, scope: str) -> list[tuple[str, str]]:
    """Every item a scope's counters live in: the base item and its event shards."""
    return [(f"W#{workspace_id}#STATS", scope)] + [
        (f"W#{workspace_id}#STATS#{n:02d}", scope) for n in range(STATS_SHARDS)
    ]


def _stats_add(
    table: str, workspace_id: str, scope: str, counts: Mapping[str, int | Decimal]
) -> dict[str, Any]:
    """A TransactWriteItems `Update` adding `counts` to one scope's statistics.

    SES events of a big campaign all count for one scope (hundreds a second): they go to
    one of `STATS_SHARDS` partitions, `W#<ws>#STATS#NN`, at random (the ADDs commute, and
    the transaction's condition on the claim counts each event once), so no single
    partition takes more than its share. Readers sum the base item and the shards."""
    shard = secrets.randbelow(STATS_SHARDS)
    update = counter_update(table, f"W#{workspace_id}#STATS#{shard:02d}", scope, counts, "stats")
    if update is None:
        raise ValueError(f"no count moves for {scope}")
    return {"Update": update}


def once_with_counts(
    table: CrmTable,
    workspace_id: str,
    guard: dict[str, Any],
    counts: Mapping[str, Mapping[str, int | Decimal]],
) -> bool:
    """The guarded action (a conditional Put or Update that makes it happen once) and the
    statistics it brings, in one transaction: False when the guard found it done before."""
    stats = [
        _stats_add(table.table, workspace_id, scope, c) for scope, c in counts.items() if any(c.values())
    ]
    return transact_once(table, [guard, *stats])


def put_if_absent(table: CrmTable, item: dict[str, Any]) -> dict[str, Any]:
    """A transaction's `Put` that only creates."""
    return {
        "Put": {
            "TableName": table.table,
            "Item": to_item(item),
            "ConditionExpression": "attribute_not_exists(pk)",
        }
    }


class DynamoStats:
    """`W#<ws>#STATS` / `<scope>`: counters per campaign and flow, added atomically."""

    def __init__(self, table: CrmTable) -> None:
        self.t = table

    def add(self, workspace_id: str, scope: str, counts: dict[str, int | Decimal]) -> None:
        self.t.add_counts(f"W#{workspace_id}#STATS", scope, counts, kind="stats")

    def get(self, workspace_id: str, scope: str) -> dict[str, int | Decimal]:
        """The base item and the event shards, summed (one BatchGetItem)."""
        return sum_counters(self.t.batch_get(stats_keys(workspace_id, scope), consistent=False))


def sum_counters(items: list[dict[str, Any]]) -> dict[str, int | Decimal]:
    totals: dict[str, int | Decimal] = dict.fromkeys(COUNTERS, 0)
    for item in items:
        for name in COUNTERS:
            totals[name] += item.get(name, 0)
    return totals


def address_hash(address: str) -> str:
    return hashlib.sha256(address.strip().lower().encode()).hexdigest()


LIST_SHARDS = 16  # opt-outs and suppressions: every send reads them, so they are spread


def opt_out_key(workspace_id: str, channel: str, customer_id: str) -> tuple[str, str]:
    """`W#<ws>#OPT#<NN>` / `<channel>#<cid>`: NN from the customer id's hash, so the reads
    of a big campaign fall on 16 partitions, not one."""
    shard = int(hashlib.sha256(customer_id.encode()).hexdigest()[:4], 16) % LIST_SHARDS
    return f"W#{workspace_id}#OPT#{shard:02d}", f"{channel}#{customer_id}"


def suppression_key(workspace_id: str, channel: str, address: str) -> tuple[str, str]:
    """`W#<ws>#SUP#<NN>` / `<channel>#<sha256(address)>`: NN from the address's hash."""
    digest = address_hash(address)
    return f"W#{workspace_id}#SUP#{int(digest[:4], 16) % LIST_SHARDS:02d}", f"{channel}#{digest}"


class DynamoLimits:
    """Suppressions, frequency caps, spacing and the SMS credit balance."""

    def __init__(self, table: CrmTable) -> None:
        self.t = table

    def suppress(self, workspace_id: str, channel: str, address: str, reason: str) -> None:
        pk, sk = suppression_key(workspace_id, channel, address)
        self.t.put(
            {
                "pk": pk,
                "sk": sk,
                "t": "suppression",
                "why": reason,
                "at": iso(now_utc()),
            }
        )

    def opt_out(self, workspace_id: str, channel: str, customer_id: str, source: str) -> None:
        pk, sk = opt_out_key(workspace_id, channel, customer_id)
        self.t.put(
            {
                "pk": pk,
                "sk": sk,
                "t": "opt_out",
                "src": source,
                "at": iso(now_utc()),
            }
        )

    def is_opted_out(self, workspace_id: str, channel: str, customer_id: str) -> bool:
        return self.t.get(*opt_out_key(workspace_id, channel, customer_id), consistent=True) is not None

    def is_suppressed(self, workspace_id: str, channel: str, address: str) -> bool:
        return self.t.get(*suppression_key(workspace_id, channel, address)) is not None

    def listed(
        self, workspace_id: str, channel: str, customer_ids: list[str], addresses: list[str]
    ) -> tuple[set[str], set[str]]:
        """Of these customers, those who opted out; of these addresses, those suppressed:
        one consistent batched read (100 keys a call), not a read for each."""
        opt = {opt_out_key(workspace_id, channel, cid): cid for cid in customer_ids}
        sup = {suppression_key(workspace_id, channel, a): a for a in addresses}
        found = {(i["pk"], i["sk"]) for i in self.t.batch_get([*opt, *sup], consistent=True)}
        return {cid for key, cid in opt.items() if key in found}, {
            a for key, a in sup.items() if key in found
        }

    def blocked(self, workspace_id: str, channel: str, addresses: dict[str, str]) -> set[str]:
        """Of these customers (id -> address), those who opted out or whose address is
        suppressed: one batched read (100 keys a call) instead of two reads per customer."""
        opt = {opt_out_key(workspace_id, channel, cid): cid for cid in addresses}
        sup = {suppression_key(workspace_id, channel, a): cid for cid, a in addresses.items()}
        found = self.t.batch_get([*opt, *sup], consistent=False)
        return {({**opt, **sup})[(i["pk"], i["sk"])] for i in found}

    def take_cap(self, workspace_id: str, customer_id: str, period: str, cap: int) -> bool:
        try:
            self.t.client.update_item(
                TableName=self.t.table,
                Key=_key(f"W#{workspace_id}#CAP#{customer_id}", period),
                UpdateExpression="ADD n :one SET #ttl = :ttl",
                ConditionExpression="attribute_not_exists(n) OR n < :cap",
                ExpressionAttributeNames={"#ttl": "ttl"},
                ExpressionAttributeValues={
                    ":one": {"N": "1"},
                    ":cap": {"N": str(cap)},
                    ":ttl": {"N": str(int((now_utc() + timedelta(days=3)).timestamp()))},
                },
            )
        except self.t.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def return_cap(self, workspace_id: str, customer_id: str, period: str) -> None:
        self.t.client.update_item(
            TableName=self.t.table,
            Key=_key(f"W#{workspace_id}#CAP#{customer_id}", period),
            UpdateExpression="ADD n :minus",
            ExpressionAttributeValues={":minus": {"N": "-1"}},
        )

    def take_spacing(self, workspace_id: str, customer_id: str, now: datetime, gap: timedelta) -> bool:
        try:
            self.t.client.update_item(
                TableName=self.t.table,
                Key=_key(f"W#{workspace_id}#CAP#{customer_id}", "LAST"),
                UpdateExpression="SET #at = :now",
                ConditionExpression="attribute_not_exists(#at) OR #at <= :earliest",
                ExpressionAttributeNames={"#at": "at"},
                ExpressionAttributeValues={
                    ":now": {"S": iso(now) or ""},
                    ":earliest": {"S": iso(now - gap) or ""},
                },
            )
        except self.t.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def take_sms_credits(self, workspace_id: str, parts: int) -> bool:
        try:
            self.t.client.update_item(
                TableName=self.t.table,
                Key=_key(f"WS#{workspace_id}", "WS"),
                UpdateExpression="SET smsc = smsc - :p",
                ConditionExpression="smsc >= :p",
                ExpressionAttributeValues={":p": {"N": str(parts)}},
            )
        except self.t.client.exceptions.ConditionalCheckFailedException:
            return False
        return True

    def return_sms_credits(self, workspace_id: str, parts: int) -> None:
        self.t.client.update_item(
            TableName=self.t.table,
            Key=_key(f"WS#{workspace_id}", "WS"),
            UpdateExpression="ADD smsc :p",
            ExpressionAttributeValues={":p": {"N": str(parts)}},
        )


class DynamoTemplates:
    """`W#<ws>#TPL` / `<template id>`: the latest version, kept whole for one read;
    `W#<ws>#TPLV#<template id>` / `v<version>`: every version, for the record."""

    def __init__(self, table: CrmTable) -> None:
        self.t = table

    def save(self, workspace_id: str, template: Template, name: str, previous: int | None) -> None:
        body = {
            "subject": template.subject,
            "html": template.html,
            "text": template.text,
            "sms": template.sms,
        }
        at = iso(now_utc())
        self.t.put(
            {
                "pk": f"W#{workspace_id}#TPLV#{template.template_id}",
                "sk": f"v{template.version:06d}",
                "t": "template_version",
                "ca": at,
                **body,
            },
            "attribute_not_exists(pk)",
        )
        condition, values = (
            ("attribute_not_exists(pk)", None) if previous is None else ("ver = :prev", {":prev": previous})
        )
        try:
            self.t.put(
                {
                    "pk": f"W#{workspace_id}#TPL",
                    "sk": template.template_id,
                    "t": "template",
                    "name": name,
                    "ver": template.version,
                    "ua": at,
                    **body,
                },
                condition,
                values,
            )
        except self.t.client.exceptions.ConditionalCheckFailedException as exc:
            raise Conflict("the template changed meanwhile; reload it and save again") from exc

    def get(self, workspace_id: str, template_id: str) -> dict[str, Any] | None:
        return self.t.get(f"W#{workspace_id}#TPL", template_id, consistent=True)

    def latest(self, workspace_id: str, template_id: str) -> Template:
        item = self.get(workspace_id, template_id)
        if item is None:
            raise LookupError(f"template {template_id} not found")
        return Template(
            template_id,
            int(item["ver"]),
            item.get("subject", ""),
            item.get("html", ""),
            item.get("text", ""),
            item.get("sms", ""),
        )

    def list(self, workspace_id: str) -> list[dict[str, Any]]:
        items, _ = self.t.query(f"W#{workspace_id}#TPL", limit=200, newest_first=False)
        return items


class AwsChannels:
    """SES v1 SendRawEmail (for the List-Unsubscribe headers) and SNS SMS."""

    def __init__(
        self,
        ses: Any,
        sns: Any,
        configuration_set: str | None = None,
        bulk_template: str = PASSTHROUGH_TEMPLATE,
        sesv2: Any = None,
    ) -> None:
        self.ses = ses
        self.sns = sns
        self.configuration_set = configuration_set
        self.bulk_template = bulk_template
        # SES v2 SendBulkEmail when given: it carries each recipient's List-Unsubscribe
        # headers, which v1 bulk sends cannot (PATRON_SES_BULK_API; every stage and the
        # embedded AWS use v2, which patron/sesv2_bulk.py adds to moto)
        self.sesv2 = sesv2

    def _throttled(self, exc: Any) -> bool:
        return exc.response.get("Error", {}).get("Code") in THROTTLE_CODES

    def send_email(
        self,
        sender: str,
        to: str,
        subject: str,
        html: str,
        text: str,
        headers: dict[str, str],
        tags: dict[str, str],
    ) -> str:
        from botocore.exceptions import ClientError

        message = EmailMessage()
        message["From"], message["To"], message["Subject"] = sender, to, subject
        for name, value in headers.items():
            message[name] = value
        message.set_content(text or " ")
        if html:
            message.add_alternative(html, subtype="html")
        kwargs: dict[str, Any] = {
            "Source": sender,
            "Destinations": [to],
            "RawMessage": {"Data": message.as_bytes()},
            "Tags": [{"Name": k, "Value": _tag(v)} for k, v in tags.items()],
        }
        if self.configuration_set:
            kwargs["ConfigurationSetName"] = self.configuration_set
        try:
            return str(self.ses.send_raw_email(**kwargs)["MessageId"])
        except ClientError as exc:
            if self._throttled(exc):
                raise Throttled(str(exc)) from exc
            raise

    def send_bulk_email(self, sender: str, emails: list[BulkEmail]) -> list[BulkResult]:
        """SES v1 SendBulkTemplatedEmail through a pass-through template: each destination's
        subject and bodies are Patron's own, rendered safely (render.py), and handed over as
        that destination's template data; the template only prints them unescaped. The
        template is created on first use if missing (the regional stack creates it).

        SES v1 bulk sends cannot carry per-destination headers: no List-Unsubscribe header
        here, only the body's signed link. With an SES v2 client (every stage, and the
        embedded AWS), SendBulkEmail is used instead, with the headers (`_send_bulk_v2`)."""
        from botocore.exceptions import ClientError

        if self.sesv2 is not None:
            return self._send_bulk_v2(sender, emails)

        kwargs: dict[str, Any] = {
            "Source": sender,
            "Template": self.bulk_template,
            "DefaultTemplateData": json.dumps({"subject": "", "html": "", "text": ""}),
            "Destinations": [
                {
                    "Destination": {"ToAddresses": [e.to]},
                    "ReplacementTemplateData": _passthrough_data(e),
                    "ReplacementTags": _ses_tags(e),
                }
                for e in emails
            ],
        }
        if self.configuration_set:
            kwargs["ConfigurationSetName"] = self.configuration_set
        for attempt in range(2):
            try:
                response = self.ses.send_bulk_templated_email(**kwargs)
                break
            except ClientError as exc:
                code = exc.response.get("Error", {}).get("Code")
                if code == "TemplateDoesNotExist" and attempt == 0:
                    self._create_passthrough()
                    continue
                if self._throttled(exc):
                    raise Throttled(str(exc)) from exc
                raise
        return _bulk_results(response["Status"], "Success", BULK_RETRY_STATUSES)

    def _send_bulk_v2(self, sender: str, emails: list[BulkEmail]) -> list[BulkResult]:
        """SES v2 SendBulkEmail with the same pass-through template (SES keeps one template
        store for v1 and v2), and each destination's List-Unsubscribe headers."""
        from botocore.exceptions import ClientError

        kwargs: dict[str, Any] = {
            "FromEmailAddress": sender,
            "DefaultContent": {
                "Template": {
                    "TemplateName": self.bulk_template,
                    "TemplateData": json.dumps({"subject": "", "html": "", "text": " "}),
                }
            },
            "BulkEmailEntries": [
                {
                    "Destination": {"ToAddresses": [e.to]},
                    "ReplacementTags": _ses_tags(e),
                    "ReplacementEmailContent": {
                        "ReplacementTemplate": {"ReplacementTemplateData": _passthrough_data(e)}
                    },
                    "ReplacementHeaders": [{"Name": k, "Value": v} for k, v in e.headers.items()],
                }
                for e in emails
            ],
        }
        if self.configuration_set:
            kwargs["ConfigurationSetName"] = self.configuration_set
        for attempt in range(2):
            try:
                response = self.sesv2.send_bulk_email(**kwargs)
            except ClientError as exc:
                if self._throttled(exc):
                    raise Throttled(str(exc)) from exc
                raise
            statuses = [r.get("Status", "FAILED") for r in response["BulkEmailEntryResults"]]
            if attempt == 0 and statuses and set(statuses) == {"TEMPLATE_NOT_FOUND"}:
                self._create_passthrough()
                continue
            break
        return _bulk_results(response["BulkEmailEntryResults"], "SUCCESS", BULK_V2_RETRY_STATUSES)

    def _create_passthrough(self) -> None:
        from botocore.exceptions import ClientError

        try:
            self.ses.create_template(
                Template={
                    "TemplateName": self.bulk_template,
                    "SubjectPart": "{{{subject}}}",
                    "HtmlPart": "{{{html}}}",
                    "TextPart": "{{{text}}}",
                }
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "AlreadyExists":
                raise

    def max_send_rate(self) -> float:
        """The account's SES sending rate (messages per second), from GetSendQuota."""
        return float(self.ses.get_send_quota()["MaxSendRate"])

    def sms_opted_out(self, phone: str) -> bool:
        """SNS keeps the numbers that replied STOP (or were opted out in the console)."""
        return bool(self.sns.check_if_phone_number_is_opted_out(phoneNumber=phone)["isOptedOut"])

    def send_sms(self, phone: str, text: str, sender_id: str, tags: dict[str, str]) -> str:
        from botocore.exceptions import ClientError

        attributes = {"AWS.SNS.SMS.SMSType": {"DataType": "String", "StringValue": "Transactional"}}
        if sender_id:
            attributes["AWS.SNS.SMS.SenderID"] = {"DataType": "String", "StringValue": sender_id}
        try:
            return str(
                self.sns.publish(PhoneNumber=phone, Message=text, MessageAttributes=attributes)["MessageId"]
            )
        except ClientError as exc:
            if self._throttled(exc):
                raise Throttled(str(exc)) from exc
            raise


def _tag(value: str) -> str:
    """SES tag values: letters, digits, _ and - only."""
    return "".join(c if c.isalnum() or c in "_-" else "_" for c in value)[:256] or "_"

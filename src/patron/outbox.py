"""The local stack's outbox: the email and SMS its embedded AWS accepted, newest first.

moto keeps what SES and SNS were asked to send (`sent_messages`, `sms_messages`) in the
server's memory, without the time, the tags or a common order, and `patron local` runs
it in another process than the CLI. So the local stack's moto server records the outbox
itself: every SES or SNS request passes through `OutboxRecorder.observe` (requests are
already serialized there), which stamps the messages the request added with the time,
the recipient, the subject (or the SMS's first line) and the `workspace` tag SES was
given. `GET <aws_url>/_patron/outbox?limit=N` returns them; `fetch` and `render` are the
client side (`patron outbox`, and `summary` for the demo).

SNS SMS carries no tags, so an SMS shows no workspace. Only messages sent while the
stack runs are listed (the outbox is in memory, as moto's own state is).
"""

from __future__ import annotations

import email
import email.policy
import io
import json
import re
import threading
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qs

PATH = "/_patron/outbox"
KEEP = 5000  # the newest messages kept
_SCOPE = re.compile(r"Credential=[^/]+/\d{8}/([^/]+)/([^/]+)/aws4_request")


@dataclass(frozen=True)
class OutboxMessage:
    seq: int
    at: str
    channel: str  # email or sms
    to: str
    subject: str  # the subject, or the SMS's first line
    workspace: str
    message_id: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _first_line(text: str, width: int = 80) -> str:
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return line if len(line) <= width else line[: width - 1] + "…"


def _tags(form: dict[str, list[str]], prefix: str) -> dict[str, str]:
    """`<prefix>.member.N.Name` / `.Value` pairs of an SES query-protocol request."""
    tags: dict[str, str] = {}
    n = 1
    while f"{prefix}.member.{n}.Name" in form:
        tags[form[f"{prefix}.member.{n}.Name"][0]] = (form.get(f"{prefix}.member.{n}.Value") or [""])[0]
        n += 1
    return tags


def _replacement_tags(destination: dict[str, Any]) -> dict[str, str]:
    tags = destination.get("ReplacementTags") or []
    return {str(t.get("Name")): str(t.get("Value", "")) for t in tags if isinstance(t, dict)}


class OutboxRecorder:
    """Kept by the local stack's moto server; fed each SES and SNS request after moto ran it."""

    def __init__(self, clock: Callable[[], datetime] | None = None) -> None:
        self.messages: list[OutboxMessage] = []
        self._seen: dict[tuple[str, str, str], int] = {}  # (service, account, region) -> seen so far
        self._clock = clock or (lambda: datetime.now(UTC))
        self._lock = threading.Lock()

    @staticmethod
    def service_of(environ: dict[str, Any]) -> tuple[str, str] | None:
        """(service, region) from a SigV4-signed request's credential scope."""
        found = _SCOPE.search(environ.get("HTTP_AUTHORIZATION") or "")
        return (found.group(2), found.group(1)) if found else None

    @staticmethod
    def capture(environ: dict[str, Any]) -> bytes:
        """The body of an SES request (its tags are not kept by moto), left readable for moto."""
        scope = OutboxRecorder.service_of(environ)
        if scope is None or scope[0] != "ses":
            return b""
        length = int(environ.get("CONTENT_LENGTH") or 0)
        body = environ["wsgi.input"].read(length) if length else b""
        environ["wsgi.input"] = io.BytesIO(body)
        return bytes(body)

    def observe(self, environ: dict[str, Any], body: bytes) -> None:
        scope = self.service_of(environ)
        if scope is None or scope[0] not in ("ses", "sns"):
            return
        from moto.core import DEFAULT_ACCOUNT_ID

        service, region = scope
        with self._lock:
            if service == "ses":
                from moto.ses.models import ses_backends

                sent = ses_backends[DEFAULT_ACCOUNT_ID][region].sent_messages
                form = parse_qs(body.decode("utf-8", "replace")) if body else {}
                fresh = self._fresh(("ses", DEFAULT_ACCOUNT_ID, region), list(sent))
                for message in fresh:
                    self._email(message, form)
            else:
                from moto.sns.models import sns_backends

                sms = sns_backends[DEFAULT_ACCOUNT_ID][region].sms_messages
                for message_id, (phone, text) in self._fresh(
                    ("sns", DEFAULT_ACCOUNT_ID, region), list(sms.items())
                ):
                    self._add("sms", str(phone), _first_line(str(text)), "", str(message_id))
            del self.messages[:-KEEP]

    def _fresh(self, key: tuple[str, str, str], items: list[Any]) -> list[Any]:
        seen = self._seen.get(key, 0)
        self._seen[key] = len(items)
        return items[seen:]

    def _add(self, channel: str, to: str, subject: str, workspace: str, message_id: str) -> None:
        at = self._clock().astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
        seq = (self.messages[-1].seq + 1) if self.messages else 1
        self.messages.append(OutboxMessage(seq, at, channel, to, subject, workspace, message_id))

    def _email(self, message: Any, form: dict[str, list[str]]) -> None:
        tags = {**_tags(form, "DefaultTags"), **_tags(form, "Tags")}
        message_id = str(getattr(message, "id", "") or "")
        if hasattr(message, "raw_data"):  # SendRawEmail: Patron's messages with headers
            parsed = email.message_from_string(message.raw_data, policy=email.policy.default)
            to = str(parsed.get("To") or ", ".join(message.destinations))
            self._add("email", to, str(parsed.get("Subject") or ""), tags.get("workspace", ""), message_id)
        elif hasattr(message, "template_data"):  # SendTemplatedEmail, SendBulkTemplatedEmail
            destinations: Iterable[Any] = message.destinations
            if isinstance(destinations, dict):
                destinations = [{"Destination": destinations}]
            for destination in destinations:
                addresses = (destination.get("Destination") or {}).get("ToAddresses") or []
                data = destination.get("ReplacementTemplateData") or message.template_data or "{}"
                subject = str(_json_or_empty(data).get("subject") or f"(template {message.template})")
                workspace = {**tags, **_replacement_tags(destination)}.get("workspace", "")
                self._add("email", ", ".join(addresses), _first_line(subject), workspace, message_id)
        else:  # SendEmail
            addresses = (getattr(message, "destinations", {}) or {}).get("ToAddresses") or []
            subject = str(getattr(message, "subject", ""))
            self._add("email", ", ".join(addresses), subject, tags.get("workspace", ""), message_id)

    def newest(self, limit: int) -> list[OutboxMessage]:
        with self._lock:
            return list(reversed(self.messages[-limit:])) if limit > 0 else []

    def respond(self, environ: dict[str, Any], start_response: Any) -> list[bytes]:
        query = parse_qs(environ.get("QUERY_STRING") or "")
        try:
            limit = int((query.get("limit") or ["20"])[0])
        except ValueError:
            limit = 20
        body = json.dumps([m.as_dict() for m in self.newest(limit)]).encode()
        start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
        return [body]


def _json_or_empty(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


# -- the client side: `patron outbox` and the demo -------------------------------------


def fetch(aws_url: str, limit: int = 20) -> list[OutboxMessage]:
    """The local stack's outbox, newest first (loopback only)."""
    import urllib.request

    from patron.http import _request

    with urllib.request.urlopen(_request(f"{aws_url.rstrip('/')}{PATH}?limit={int(limit)}"), timeout=30) as r:  # noqa: S310 - loopback checked
        return [OutboxMessage(**m) for m in json.loads(r.read())]


def render(messages: list[OutboxMessage]) -> str:
    if not messages:
        return "the outbox is empty: nothing sent since the local stack started"
    lines = [f"{'at':<24} {'ch':<5} {'workspace':<14} {'to':<32} subject / first line"]
    for m in messages:
        lines.append(f"{m.at:<24} {m.channel:<5} {m.workspace or '-':<14} {m.to[:32]:<32} {m.subject}")
    return "\n".join(lines)


def summary(aws_url: str, limit: int = 5) -> str:
    """For the demo's summary: how many emails and SMS went out, and the newest few."""
    everything = fetch(aws_url, KEEP)
    emails = sum(1 for m in everything if m.channel == "email")
    texts = len(everything) - emails
    head = f"Outbox: {emails} email(s), {texts} SMS sent (`patron outbox` lists them)"
    return head if not everything else head + "\n" + render(everything[:limit])

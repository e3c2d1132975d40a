"""The messaging channels: SES (email, one at a time and in bulk) and SNS (SMS)."""

from __future__ import annotations

import json
from email.message import EmailMessage
from typing import Any

from chalicelib.domain.messaging.model import BulkEmail, BulkResult, Throttled

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

    def sender_verified(self, sender: str) -> bool:
        """SES GetIdentityVerificationAttributes: the address, or its domain, is `Success`."""
        address = sender.strip()
        identities = [address, address.rpartition("@")[2].lower()]
        found = self.ses.get_identity_verification_attributes(Identities=identities)
        statuses = found.get("VerificationAttributes") or {}
        return any((statuses.get(i) or {}).get("VerificationStatus") == "Success" for i in identities)

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

"""Embedded-AWS addition: SES v2 `SendBulkEmail`, which moto does not implement.

Regional stages send campaigns with SES v2 `SendBulkEmail`, whose entries carry each
recipient's own `List-Unsubscribe` headers (SES v1 `SendBulkTemplatedEmail` cannot). So
that the embedded AWS takes the same path, and every marketing email it sends carries its
one-click headers, this answers `SendBulkEmail` from moto's SES backend: the call is
checked as v1 bulk sends are (verified sender, existing template, at most 50
destinations) and kept as one bulk message in moto's SES outbox, each destination with
its template data, tags and headers (`ReplacementHeaders`), where tests, the benchmark
and `patron outbox` read it. A missing template is answered per entry
(`TEMPLATE_NOT_FOUND`), as SES v2 does.

Development tooling only: the Lambda code never imports it.
"""

from __future__ import annotations

import json
from typing import Any

_installed = False


def install() -> None:
    """Add `send_bulk_email` to moto's SES v2 responses (idempotent)."""
    global _installed
    if _installed:
        return
    from moto.ses.models import ses_backends
    from moto.sesv2 import urls
    from moto.sesv2.responses import SESV2Response

    def send_bulk_email(self: Any) -> str:
        params = json.loads(self.body)
        template = params["DefaultContent"]["Template"]
        name, default_data = template["TemplateName"], template.get("TemplateData") or "{}"
        entries = params.get("BulkEmailEntries") or []
        backend = ses_backends[self.current_account][self.region]
        if not backend.templates.get(name):
            missing = {"Status": "TEMPLATE_NOT_FOUND", "Error": f"Template {name} does not exist"}
            return json.dumps({"BulkEmailEntryResults": [missing for _ in entries]})
        destinations = [
            {
                "Destination": entry["Destination"],
                "ReplacementTags": entry.get("ReplacementTags") or [],
                "ReplacementTemplateData": (
                    (entry.get("ReplacementEmailContent") or {}).get("ReplacementTemplate") or {}
                ).get("ReplacementTemplateData")
                or default_data,
                "ReplacementHeaders": entry.get("ReplacementHeaders") or [],
            }
            for entry in entries
        ]
        sent = backend.send_bulk_templated_email(params["FromEmailAddress"], name, default_data, destinations)
        results = [{"Status": "SUCCESS", "MessageId": message_id} for message_id in sent.ids]
        return json.dumps({"BulkEmailEntryResults": results})

    SESV2Response.send_bulk_email = send_bulk_email  # type: ignore[attr-defined]
    # moto's server turns its `/v2/.*` catch-all into a literal route: name the path
    urls.url_paths["{0}/v2/email/outbound-bulk-emails$"] = SESV2Response.dispatch
    _installed = True

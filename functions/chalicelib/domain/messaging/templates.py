"""Templates per workspace: versioned, validated when saved, previewed for a real customer."""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, Field

from chalicelib.domain.errors import BadRequest, NotFound
from chalicelib.domain.messaging import feedback, product_block, render, sms
from chalicelib.domain.messaging.model import Template
from chalicelib.domain.messaging.personalize import profile_values
from chalicelib.domain.messaging.ports import Channels, ProfileReader, TemplateStore, WorkspaceReader
from chalicelib.domain.recommend.ports import Recommender

_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")


class TemplateIn(BaseModel):
    name: str = Field(min_length=1, max_length=120)
    subject: str = Field(default="", max_length=998)
    html: str = Field(default="", max_length=200_000)
    text: str = Field(default="", max_length=100_000)
    sms: str = Field(default="", max_length=1_600)


class TemplateView(BaseModel):
    template_id: str
    name: str
    version: int
    subject: str
    html: str
    text: str
    sms: str
    variables: list[str]


class Preview(BaseModel):
    template_id: str
    version: int
    customer_id: str
    subject: str
    html: str
    text: str
    sms: str
    sms_encoding: str | None
    sms_parts: int | None


def _view(template: Template) -> TemplateView:
    texts = [template.subject, template.html, template.text, template.sms]
    return TemplateView(
        template_id=template.template_id,
        name=template.name or template.template_id,
        version=template.version,
        subject=texts[0],
        html=texts[1],
        text=texts[2],
        sms=texts[3],
        variables=sorted(render.variables_used(*texts)),
    )


class TemplateService:
    def __init__(
        self,
        store: TemplateStore,
        profiles: ProfileReader,
        workspaces: WorkspaceReader,
        channels: Channels | None = None,
        recommender: Recommender | None = None,
    ) -> None:
        self.store = store
        self.profiles = profiles
        self.workspaces = workspaces
        self.channels = channels  # for test sends (chalicelib.domain.messaging.service.Channels)
        self.recommender = recommender  # the customer's recommendations, when the template shows them

    def save(self, workspace_id: str, template_id: str, body: TemplateIn) -> TemplateView:
        """Create the template, or add a version; every text is checked first."""
        if not _ID.match(template_id):
            raise BadRequest(
                "template id: 1-64 lower-case letters, digits, _ and -", {"field": "template_id"}
            )
        for field in ("subject", "html", "text", "sms"):
            render.parse(getattr(body, field), field)  # 400 with the position of what is wrong
        if not (body.html or body.text or body.sms):
            raise BadRequest("a template needs an html, text or sms body", {"field": "text"})
        current = self.store.get(workspace_id, template_id)
        previous = current.version if current else None
        template = Template(template_id, (previous or 0) + 1, body.subject, body.html, body.text, body.sms)
        self.store.save(workspace_id, template, body.name, previous)
        return self.get(workspace_id, template_id)

    def get(self, workspace_id: str, template_id: str) -> TemplateView:
        template = self.store.get(workspace_id, template_id)
        if template is None:
            raise NotFound("template not found")
        return _view(template)

    def list(self, workspace_id: str) -> list[TemplateView]:
        return [_view(t) for t in self.store.list(workspace_id)]

    def preview(
        self, workspace_id: str, template_id: str, customer_id: str, values: dict[str, Any]
    ) -> Preview:
        """The template rendered for one customer, with sample values for the rest."""
        view = self.get(workspace_id, template_id)
        profile = self.profiles.load(workspace_id, customer_id)
        if profile is None:
            raise NotFound("customer not found")
        settings = self.workspaces.settings(workspace_id)
        known = {
            **profile_values(profile, settings.name if settings else ""),
            "coupon_code": "PREVIEW-CODE",
            "unsubscribe_url": "https://example.invalid/unsubscribe/preview",
            "join_url": "https://example.invalid/join/preview",
            **{k: v for k, v in values.items() if k in render.VARIABLES},
        }
        texts = (view.subject, view.html, view.text, view.sms)
        if self.recommender and render.variables_used(*texts) & product_block.RECOMMENDATION_VARIABLES:
            found = self.recommender.for_customer(
                workspace_id, customer_id, placement="email", limit=product_block.MAX_SHOWN
            )
            known = {**product_block.recommendation_values(found), **known}
        sms_text = render.render(view.sms, known, field="sms") if view.sms else ""
        length = sms.measure(sms_text) if sms_text else None
        return Preview(
            template_id=template_id,
            version=view.version,
            customer_id=customer_id,
            subject=render.render(view.subject, known, field="subject"),
            html=render.render(view.html, known, escape_html=True, field="html"),
            text=render.render(view.text, known, field="text"),
            sms=sms_text,
            sms_encoding=length.encoding if length else None,
            sms_parts=length.parts if length else None,
        )

    def test_send(self, workspace_id: str, template_id: str, customer_id: str, to: str) -> dict[str, Any]:
        """Send the preview for a customer to an operator's address or phone (not to the
        customer: no claim, no cap). Email when `to` holds an @, SMS otherwise."""
        shown = self.preview(workspace_id, template_id, customer_id, {})
        settings = self.workspaces.settings(workspace_id)
        tags = {"workspace": workspace_id, "mk": feedback.key_tag(f"test:{template_id}")}
        channels = self.channels
        if channels is None:
            raise RuntimeError("no channels configured for test sends")
        if "@" in to:
            if not settings or not settings.sender_email:
                raise BadRequest("set the workspace's sender first (patron workspace messaging --sender)")
            subject = "[test] " + shown.subject
            provider_id = channels.send_email(
                settings.sender_email, to, subject, shown.html, shown.text, {}, tags
            )
            return {"channel": "email", "to": to, "provider_id": provider_id, "subject": subject}
        if not shown.sms:
            raise BadRequest("this template has no SMS text")
        provider_id = channels.send_sms(to, shown.sms, settings.sms_sender_id if settings else "", tags)
        return {"channel": "sms", "to": to, "provider_id": provider_id, "parts": shown.sms_parts}

"""`patron template ...`: versioned message templates (docs/messaging.md)."""

from __future__ import annotations

import click

from patron.cli.base import (
    json_option,
    print_json,
    read_text,
    stage_option,
    workspace_container,
    workspace_option,
)


@click.group("template")
def template() -> None:
    """Message templates (docs/messaging.md)."""


@template.command("save")
@workspace_option()
@click.argument("template_id")
@click.option("--name", required=True, help="the template's name")
@click.option("--subject", metavar="TEXT|@FILE", help="the email subject")
@click.option("--html", metavar="TEXT|@FILE", help="the email's HTML body")
@click.option("--text", metavar="TEXT|@FILE", help="the email's text body")
@click.option("--sms", metavar="TEXT|@FILE", help="the SMS text")
@stage_option
def save(
    workspace: str,
    template_id: str,
    name: str,
    subject: str | None,
    html: str | None,
    text: str | None,
    sms: str | None,
    stage: str | None,
) -> None:
    """Create a template or add a version; texts as literals or @FILE."""
    from chalicelib.domain.messaging.templates import TemplateIn

    body = TemplateIn(
        name=name, subject=read_text(subject), html=read_text(html), text=read_text(text), sms=read_text(sms)
    )
    print_json(workspace_container(workspace).template_service.save(workspace, template_id, body))


@template.command("list")
@workspace_option()
@json_option
@stage_option
def list_(workspace: str, as_json: bool, stage: str | None) -> None:
    """The workspace's templates and their latest versions."""
    templates = workspace_container(workspace).template_service.list(workspace)
    shown = [{"template_id": t.template_id, "name": t.name, "version": t.version} for t in templates]
    print_json({"templates": shown}, compact=as_json)


@template.command("preview")
@workspace_option()
@click.argument("template_id")
@click.option("--customer", required=True, metavar="ID", help="whose values fill the template")
@json_option
@stage_option
def preview(workspace: str, template_id: str, customer: str, as_json: bool, stage: str | None) -> None:
    """Render a template for a customer."""
    found = workspace_container(workspace)
    print_json(found.template_service.preview(workspace, template_id, customer, {}), compact=as_json)


@template.command("test-send")
@workspace_option()
@click.argument("template_id")
@click.option("--customer", required=True, metavar="ID", help="whose values fill the template")
@click.option("--to", required=True, metavar="ADDRESS", help="an email address or an E.164 phone")
@stage_option
def test_send(workspace: str, template_id: str, customer: str, to: str, stage: str | None) -> None:
    """Send the preview to your own address or phone."""
    found = workspace_container(workspace)
    print_json(found.template_service.test_send(workspace, template_id, customer, to))


COMMANDS = [template]

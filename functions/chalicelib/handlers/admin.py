"""Admin API: bearer API key scoped to one workspace."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint, Response

from chalicelib.container import container
from chalicelib.domain.errors import BadRequest, Unauthorized
from chalicelib.handlers.http import (
    api,
    bearer_key_hash,
    json_response,
    key_actor,
    logger,
    model_body,
    model_query,
    query_cursor,
    query_limit,
)
from chalicelib.handlers.openapi import operation

# Domain modules are imported in the handler that uses them: cold start (handlers/__init__.py).
bp = Blueprint(__name__)
MAX_EMAIL = 320


def workspace_id() -> str:
    request = bp.current_request
    ws = container().workspaces.workspace_for_key(bearer_key_hash(request.headers.get("authorization")))
    if ws is None:
        raise Unauthorized("unknown API key")
    logger.append_keys(workspace_id=ws)
    from chalicelib.domain.models import now_utc

    container().request_limits.check(str(ws), now_utc())  # 429 beyond the per-minute limit
    return str(ws)


def _param(name: str, max_length: int) -> str:
    params: dict[str, str] = dict(bp.current_request.query_params or {})
    value = params.get(name)
    if not value:
        raise BadRequest(f"query parameter {name!r} is required", [{"field": name, "error": "missing"}])
    if len(value) > max_length:
        raise BadRequest(f"query parameter {name!r} is too long", [{"field": name, "error": "too long"}])
    return str(value)


@bp.route("/customers", methods=["GET"])
@operation(
    "The customer list and search (or the customers with an exact email)",
    "customers",
    {200: "chalicelib.domain.customer_list:CustomerPage"},
    query="chalicelib.handlers.api_models:CustomerListQuery",
    errors=(400, 404),
)
@api
def find_customers() -> Any:
    """`?email=` the profiles with that exact email; otherwise the customer list: `?q=` (name,
    email or phone prefix), `?segment=`, `?tier=` or `?tag=`, `?limit=` (1-100, 50) and `?cursor=`."""
    ws = workspace_id()
    params: dict[str, str] = dict(bp.current_request.query_params or {})
    if "email" in params:
        from chalicelib.domain.customer_list import CustomerPage

        found = container().customers.find_by_email(ws, _param("email", MAX_EMAIL))
        return CustomerPage(customers=found, next_cursor=None)
    from chalicelib.domain.customer_list import CustomerQuery

    query = model_query(CustomerQuery, {k: v for k, v in params.items() if v}, "customer query")
    limit, cursor = query_limit(params, 50, 100), query_cursor(params, "", 2000)
    return container().customer_list.page(ws, query, limit, cursor)


@bp.route("/customers/{customer_id}", methods=["GET"])
@operation(
    "A customer's profile and timeline",
    "customers",
    {200: "chalicelib.domain.customers:CustomerDetail"},
    errors=(404,),
)
@api
def get_customer(customer_id: str) -> Any:
    ws = workspace_id()
    logger.append_keys(customer_id=customer_id)
    return container().customer_edits.with_notes(ws, container().customers.get(ws, customer_id))


@bp.route("/customers/{customer_id}", methods=["DELETE"])
@operation(
    "Erase the customer everywhere",
    "privacy",
    {202: "chalicelib.handlers.api_models:PrivacyAccepted"},
    errors=(404,),
)
@api
def erase_customer(customer_id: str) -> Response:
    """Erase the customer everywhere, whatever their source: carried out by the ingest stream
    as Shopify's customers/redact is (audit: `patron privacy list`)."""
    return _privacy_request(customer_id, "customers_redact")


@bp.route("/customers/{customer_id}/export", methods=["POST"])
@operation(
    "Export the customer's data",
    "privacy",
    {202: "chalicelib.handlers.api_models:PrivacyAccepted"},
    errors=(404,),
)
@api
def export_customer(customer_id: str) -> Response:
    """A data export of the customer, made by the ingest stream as for customers/data_request."""
    return _privacy_request(customer_id, "customers_data_request")


def _privacy_request(customer_id: str, request: str) -> Response:
    """Store the request for the ingest stream; 202 with the id to follow it by."""
    ws = workspace_id()
    logger.append_keys(customer_id=customer_id)
    from chalicelib.handlers.api_models import PrivacyAccepted

    request_id = container().privacy_requests.request(ws, customer_id, request)
    return json_response(PrivacyAccepted(request_id=request_id), 202)


@bp.route("/customers/{customer_id}/membership", methods=["POST"])
@operation(
    "Enrol the customer in the loyalty programme",
    "loyalty",
    {200: "chalicelib.domain.enrolment:MembershipView"},
    body="chalicelib.domain.enrolment:MembershipIn",
    errors=(404, 409),
)
@api
def enrol_customer(customer_id: str) -> Response:
    """Enrol the customer in the loyalty programme (docs/loyalty.md#membership)."""
    return _membership(customer_id, "enrol")


@bp.route("/customers/{customer_id}/membership", methods=["DELETE"])
@operation(
    "The customer leaves the loyalty programme",
    "loyalty",
    {200: "chalicelib.domain.enrolment:MembershipView"},
    body="chalicelib.domain.enrolment:MembershipIn",
    errors=(404, 409),
)
@api
def remove_membership(customer_id: str) -> Response:
    """The customer leaves the loyalty programme; their number is kept, never reused."""
    return _membership(customer_id, "leave")


@bp.route("/customers/{customer_id}/membership", methods=["GET"])
@operation(
    "The membership and a page of its audit",
    "loyalty",
    {200: "chalicelib.handlers.api_models:MembershipAuditPage"},
    query="chalicelib.handlers.api_models:PageQuery",
    errors=(400, 404),
)
@api
def get_membership(customer_id: str) -> Any:
    """`?limit=50&cursor=`: the membership and its audit entries, newest first."""
    ws = workspace_id()
    logger.append_keys(customer_id=customer_id)
    params: dict[str, str] = dict(bp.current_request.query_params or {})
    limit, cursor = query_limit(params, 50), query_cursor(params, "MS#", 200)
    from chalicelib.handlers.api_models import MembershipAuditPage

    return MembershipAuditPage.model_validate(
        container().membership_audit.listing(ws, customer_id, limit, cursor)
    )


def _membership(customer_id: str, kind: str) -> Response:

    from chalicelib.domain.enrolment import Actor, MembershipIn

    ws = workspace_id()
    logger.append_keys(customer_id=customer_id)
    body = model_body(MembershipIn, bp.current_request.raw_body, "membership request", empty=b"{}")
    actor = Actor("api", key_actor(bp.current_request.headers.get("authorization")))
    service = container().enrolments
    change = service.enrol if kind == "enrol" else service.leave
    view = change(ws, customer_id, actor, body.reason)
    return json_response(view.model_dump(mode="json"), 200)


@bp.route("/exports/{request_id}", methods=["GET"])
@operation(
    "A data request's export, once made",
    "privacy",
    {200: "chalicelib.handlers.privacy_models:ExportOut"},
    errors=(404,),
)
@api
def get_export(request_id: str) -> Any:
    """The export a data request made (404 until it is ready)."""
    from chalicelib.handlers.privacy_models import ExportOut

    return ExportOut.model_validate(container().privacy_requests.export(workspace_id(), request_id))


@bp.route("/orders/{order_id}", methods=["GET"])
@operation("One order", "customers", {200: "chalicelib.domain.customers:OrderView"}, errors=(404,))
@api
def get_order(order_id: str) -> Any:
    ws = workspace_id()
    logger.append_keys(order_id=order_id)
    return container().customers.order(ws, order_id)


@bp.route("/products/{product_id}", methods=["GET"])
@operation(
    "One catalogue product", "customers", {200: "chalicelib.domain.catalogue:ProductDetail"}, errors=(404,)
)
@api
def get_product(product_id: str) -> Any:
    """One catalogue product by `SOURCE_ID.PLATFORM_PRODUCT_ID`."""
    ws = workspace_id()
    return container().customers.product(ws, product_id)

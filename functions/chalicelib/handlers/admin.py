"""Admin API: bearer API key scoped to one workspace."""

from __future__ import annotations

from typing import Any

from chalice import Blueprint
from pydantic import BaseModel, Field, ValidationError

from chalicelib.container import container
from chalicelib.domain.customers import ProfileView
from chalicelib.domain.errors import BadRequest, Unauthorized
from chalicelib.handlers.http import api, bearer_key_hash, logger

bp = Blueprint(__name__)


class CustomerQuery(BaseModel):
    email: str = Field(min_length=3, max_length=320)


class CustomerList(BaseModel):
    customers: list[ProfileView]


def workspace_id() -> str:
    request = bp.current_request
    ws = container().workspaces.workspace_for_key(bearer_key_hash(request.headers.get("authorization")))
    if ws is None:
        raise Unauthorized("unknown API key")
    logger.append_keys(workspace_id=ws)
    return str(ws)


def _query(model: type[BaseModel]) -> Any:
    try:
        return model.model_validate(bp.current_request.query_params or {})
    except ValidationError as exc:
        raise BadRequest("invalid query", [
            {"field": ".".join(map(str, e["loc"])), "error": e["msg"]}
            for e in exc.errors(include_input=False, include_url=False)
        ]) from exc


@bp.route("/customers", methods=["GET"])
@api
def find_customers() -> CustomerList:
    ws = workspace_id()
    query: CustomerQuery = _query(CustomerQuery)
    return CustomerList(customers=container().customers.find_by_email(ws, query.email))


@bp.route("/customers/{customer_id}", methods=["GET"])
@api
def get_customer(customer_id: str) -> Any:
    ws = workspace_id()
    logger.append_keys(customer_id=customer_id)
    return container().customers.get(ws, customer_id)


@bp.route("/orders/{order_id}", methods=["GET"])
@api
def get_order(order_id: str) -> Any:
    ws = workspace_id()
    logger.append_keys(order_id=order_id)
    return container().customers.order(ws, order_id)

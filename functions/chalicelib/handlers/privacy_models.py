"""The API's answer model of a data request's export (`GET /exports/{request_id}`): what
domain/privacy.py's export collected, the customer's profiles and their orders as the
customers API shows them (issue 16: every answer typed in the document)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict

from chalicelib.domain.customers import CustomerDetail, OrderView


class ExportOut(BaseModel):
    """A customer's data, as a data request (Shopify's or the API's) exported it."""

    model_config = ConfigDict(extra="forbid")

    request_id: str
    customers: list[CustomerDetail]
    orders: list[OrderView]

"""Shopify's return webhooks (`returns/request`, `returns/approve`, `returns/decline`,
`returns/cancel`, `returns/close`, `returns/reopen`, `returns/update`): the Return's id,
status, order and lines (docs/service.md#returns-and-exchanges). The full shape (request,
approve, decline, update) carries `order` and `return_line_items`; the short one (cancel,
close, reopen) `order_id` alone. A body without `status` takes the topic's."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator, model_validator

from chalicelib.domain.models import Delivery, IngestPayload, ReturnLineIn, ReturnUpdate

STATUS_BY_TOPIC = {
    "returns/request": "requested",
    "returns/approve": "open",
    "returns/decline": "declined",
    "returns/cancel": "cancelled",
    "returns/close": "closed",
    "returns/reopen": "open",
}


class _M(BaseModel):
    model_config = ConfigDict(extra="ignore")


class ShopifyRef(_M):
    id: int


class ShopifyFulfillmentLine(_M):
    line_item: ShopifyRef


class ShopifyReturnLine(_M):
    fulfillment_line_item: ShopifyFulfillmentLine
    quantity: int


class ShopifyReturn(_M):
    id: int
    status: Literal["requested", "open", "closed", "declined", "canceled", "cancelled"] | None = None
    name: str | None = None
    order: ShopifyRef | None = None
    order_id: int | None = None
    return_line_items: list[ShopifyReturnLine] = []

    @field_validator("status", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value  # GraphQL's `OPEN`, REST's `open`

    @model_validator(mode="after")
    def _has_status(self, info: ValidationInfo) -> ShopifyReturn:
        topic = (info.context or {}).get("topic")
        if self.status is None and topic not in STATUS_BY_TOPIC:
            raise ValueError("a return without a status, on a topic that names none")
        return self


def parse_return(body: bytes, delivery: Delivery) -> IngestPayload:
    r = ShopifyReturn.model_validate_json(body, context={"topic": delivery.topic})
    status = r.status or STATUS_BY_TOPIC[delivery.topic]
    order = r.order.id if r.order is not None else r.order_id
    return ReturnUpdate(
        return_id=str(r.id),
        status=status,
        order_id=None if order is None else str(order),
        name=r.name,
        lines=tuple(
            ReturnLineIn(line_item_id=str(li.fulfillment_line_item.line_item.id), quantity=li.quantity)
            for li in r.return_line_items
        ),
    )

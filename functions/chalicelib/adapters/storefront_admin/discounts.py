"""A flow's coupon created in the store (the `StoreDiscounts` port): one single-use code.

- Shopify: `discountCodeBasicCreate` (shopify.dev/docs/api/admin-graphql/latest/mutations/
  discountCodeBasicCreate): the code, `usageLimit: 1`, `appliesOncePerCustomer`, `startsAt`,
  `endsAt`, a percentage or a fixed amount off the order, for the customer (`context`) when
  the store's id of the customer is known, else for everyone. A `TAKEN` userError on the
  code means the store has it already (an earlier attempt made it): created.
- WooCommerce: `POST /wc/v3/coupons` (woocommerce.github.io/woocommerce-rest-api-docs/#create-a-coupon):
  `percent` or `fixed_cart`, `usage_limit: 1`, `usage_limit_per_user: 1`, `date_expires_gmt`
  (UTC; `date_expires` is the site's zone), `email_restrictions` with the customer's email.
  `woocommerce_rest_coupon_code_already_exists` means the store has it already: created.
"""

from __future__ import annotations

from chalicelib.adapters.storefront_admin.clients import admin_client
from chalicelib.adapters.storefront_admin.http import RetryPolicy, Transport, urllib_transport
from chalicelib.adapters.storefront_admin.shopify import ShopifyAdmin
from chalicelib.adapters.storefront_admin.woocommerce import WooCommerceAdmin
from chalicelib.domain.messaging.flow_definition import IssuedCoupon, StoreCode
from chalicelib.domain.models import Source, now_utc
from chalicelib.domain.ports import AdminCredentialStore
from chalicelib.domain.store_admin import AdminUserErrors, WooCommerceApiError
from chalicelib.domain.timemath import iso

DISCOUNT_CODE_BASIC_CREATE = """
mutation discountCodeBasicCreate($basicCodeDiscount: DiscountCodeBasicInput!) {
  discountCodeBasicCreate(basicCodeDiscount: $basicCodeDiscount) {
    codeDiscountNode { id }
    userErrors { field message code }
  }
}
""".strip()

WOO_CODE_EXISTS = "woocommerce_rest_coupon_code_already_exists"


class AdminStoreDiscounts:
    def __init__(
        self,
        credentials: AdminCredentialStore,
        policy: RetryPolicy | None = None,
        transport: Transport = urllib_transport,
    ) -> None:
        self.credentials = credentials
        self.policy = policy
        self.transport = transport

    def create(
        self, source: Source, coupon: IssuedCoupon, store_customer_id: str | None, email: str | None
    ) -> StoreCode:
        client = admin_client(source, self.credentials, self.policy, self.transport)
        if isinstance(client, ShopifyAdmin):
            return shopify_create(client, coupon, store_customer_id)
        return woocommerce_create(client, coupon, email)


def shopify_input(coupon: IssuedCoupon, store_customer_id: str | None) -> dict[str, object]:
    """The mutation's DiscountCodeBasicInput."""
    if coupon.percent_off is not None:
        value: dict[str, object] = {"percentage": float(coupon.percent_off / 100)}
    else:
        value = {"discountAmount": {"amount": str(coupon.amount_off), "appliesOnEachItem": False}}
    customer = (
        {"customers": {"add": [f"gid://shopify/Customer/{store_customer_id}"]}}
        if store_customer_id
        else {"all": "ALL"}
    )
    return {
        "title": f"Patron {coupon.code}",
        "code": coupon.code,
        "startsAt": coupon.issued_at or iso(now_utc()),  # required when creating
        "endsAt": coupon.expires_at,
        "usageLimit": 1,
        "appliesOncePerCustomer": True,
        "context": customer,
        "customerGets": {"value": value, "items": {"all": True}},
    }


def shopify_create(client: ShopifyAdmin, coupon: IssuedCoupon, store_customer_id: str | None) -> StoreCode:
    variables = {"basicCodeDiscount": shopify_input(coupon, store_customer_id)}
    try:
        payload = client.mutate(DISCOUNT_CODE_BASIC_CREATE, variables, "discountCodeBasicCreate")
    except AdminUserErrors as exc:
        if exc.user_errors and all(e.get("code") == "TAKEN" for e in exc.user_errors):
            return StoreCode(None, existed=True)
        raise
    node = payload.get("codeDiscountNode") or {}
    return StoreCode(str(node["id"]) if node.get("id") else None)


def woocommerce_body(coupon: IssuedCoupon, email: str | None) -> dict[str, object]:
    percent = coupon.percent_off is not None
    body: dict[str, object] = {
        "code": coupon.code,
        "discount_type": "percent" if percent else "fixed_cart",
        "amount": str(coupon.percent_off if percent else coupon.amount_off),
        "individual_use": True,
        "usage_limit": 1,
        "usage_limit_per_user": 1,
        "date_expires_gmt": coupon.expires_at[:19],  # YYYY-MM-DDTHH:MM:SS, UTC
    }
    if email:
        body["email_restrictions"] = [email]
    return body


def woocommerce_create(client: WooCommerceAdmin, coupon: IssuedCoupon, email: str | None) -> StoreCode:
    try:
        made = client.post("coupons", woocommerce_body(coupon, email))
    except WooCommerceApiError as exc:
        if exc.code == WOO_CODE_EXISTS:
            return StoreCode(None, existed=True)
        raise
    return StoreCode(str(made["id"]) if isinstance(made, dict) and made.get("id") is not None else None)

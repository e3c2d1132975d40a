"""Day one with a real store: what a user runs against the local stack (`patron source
connect`, `patron import orders FILE --format shopify-csv`), run as they run it, in a
process of its own that finds the stack by its state record."""

from __future__ import annotations

import csv
import io
import subprocess
import sys
import tempfile
from datetime import datetime, timedelta, timezone
from pathlib import Path

from patron.synthetic.store import SimOrder
from patron.synthetic.storefront_bodies import fixture

Delivery = tuple[str, str, bytes, str]  # platform, topic, body, delivery id


def patron(*args: str) -> str:
    """`patron ARGS` as a user runs it; its stdout. A failure raises with its stderr."""
    done = subprocess.run(  # noqa: S603 - this interpreter, the project's CLI module
        [sys.executable, "-m", "patron.cli", *args], capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise RuntimeError(f"patron {args[0]} {args[1]} exited {done.returncode}: {done.stderr.strip()}")
    return done.stdout


def import_export(workspace_id: str, source_id: str, exported: list[SimOrder]) -> list[str]:
    """The shop's orders export written to a file and imported as a user does:
    `patron import orders FILE -w WS --source SRC --format shopify-csv`; its summary lines."""
    if not exported:  # a tiny store: nothing older than the cutoff
        return ["no order older than the export's cutoff: nothing to import"]
    with tempfile.TemporaryDirectory(prefix="patron-demo-") as folder:
        export = Path(folder) / "orders_export_1.csv"
        export.write_bytes(shopify_orders_csv(exported))
        done = patron(
            "import", "orders", str(export), "-w", workspace_id, "--source", source_id,
            "--format", "shopify-csv",
        )  # fmt: skip
    return done.splitlines()


def split_history(
    orders: list[SimOrder], deliveries: list[Delivery], cutoff: datetime
) -> tuple[list[SimOrder], list[Delivery]]:
    """(the Shopify orders the store's export file carries, the deliveries still sent as
    webhooks): the Shopify orders created before `cutoff`, except a member's whose every
    order is before it. The export has no customer id nor account state, so a member's
    account must come from a webhook (a later order, on either store) to stay one; a guest
    (and one who registers later, by a customer webhook) can come from the file alone."""
    live = {o.person.index for o in orders if not _exported(o, cutoff)}
    exported = [o for o in orders if _exported(o, cutoff) and (not o.person.member or o.person.index in live)]
    gone = {f"demo-{o.order_id}-" for o in exported}
    kept = [d for d in deliveries if d[0] != "shopify" or not d[3].startswith(tuple(gone) or ("\0",))]
    return exported, kept


def _exported(order: SimOrder, cutoff: datetime) -> bool:
    return order.platform == "shopify" and order.created < cutoff


def _stamp(at: datetime) -> str:
    """The export's time: `2025-10-07 09:50:26 +0200` (the shop's zone, here UTC+2)."""
    return at.astimezone(SHOP_ZONE).strftime("%Y-%m-%d %H:%M:%S %z")


def shopify_orders_csv(orders: list[SimOrder]) -> bytes:
    """Shopify's orders export (Admin > Orders > Export, plain CSV) of `orders` in their final
    state: a row per line item, the order's fields on its first row, a leading apostrophe on
    the zip and phone cells, as the export writes them."""
    address = fixture("shopify/orders_create.json")["shipping_address"]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    for o in sorted(orders, key=lambda o: o.created):
        p = o.person
        refunded = o.refund > 0 and not o.cancelled
        financial = (
            "voided"
            if o.cancelled
            else ("refunded" if o.refund == o.total else "partially_refunded")
            if refunded
            else "paid"
        )
        name, phone = f"{p.first} {p.last}", f"'{p.phone}" if p.phone else ""
        first = {
            "Email": p.email,
            "Financial Status": financial,
            "Paid at": _stamp(o.created + timedelta(seconds=3)),
            "Fulfillment Status": "unfulfilled" if o.cancelled else "fulfilled",
            "Fulfilled at": "" if o.cancelled else _stamp(o.created + timedelta(days=1)),
            "Accepts Marketing": "yes" if p.index % 3 else "no",
            "Subtotal": str(o.total),
            "Shipping": "0.00",
            "Taxes": "0.00",
            "Total": str(o.total),
            "Discount Amount": "0.00",
            "Shipping Method": "Standard",
            "Cancelled at": _stamp(o.created + timedelta(hours=3)) if o.cancelled else "",
            "Refunded Amount": str(o.refund) if refunded else "0.00",
            "Id": str(o.order_id),
            "Source": "web",
            "Phone": phone,
        }
        for where in ("Billing", "Shipping"):
            first |= {
                f"{where} Name": name,
                f"{where} Address1": address["address1"],
                f"{where} City": address["city"],
                f"{where} Zip": f"'{address['zip']}",
                f"{where} Province": address["province_code"],
                f"{where} Country": address["country_code"],
                f"{where} Phone": phone,
            }
        for n, (sku, title, price, qty) in enumerate(o.lines):
            row = {
                "Name": f"#{o.order_id % 100000}",
                "Currency": "USD",
                "Created at": _stamp(o.created),
                "Lineitem quantity": str(qty),
                "Lineitem name": title,
                "Lineitem price": str(price),
                "Lineitem sku": sku,
                "Lineitem requires shipping": "true",
                "Lineitem taxable": "true",
                "Vendor": "Demo Books & Co",
            }
            writer.writerow(row | first if n == 0 else row)
    return out.getvalue().encode()


SHOP_ZONE = timezone(timedelta(hours=2))
# the export's columns, in its order (docs/import.md#shopify-csv reads them by name)
_HEADER = (
    "Name,Email,Financial Status,Paid at,Fulfillment Status,Fulfilled at,Accepts Marketing,Currency,"
    "Subtotal,Shipping,Taxes,Total,Discount Code,Discount Amount,Shipping Method,Created at,"
    "Lineitem quantity,Lineitem name,Lineitem price,Lineitem compare at price,Lineitem sku,"
    "Lineitem requires shipping,Lineitem taxable,Lineitem fulfillment status,Billing Name,"
    "Billing Street,Billing Address1,Billing Address2,Billing Company,Billing City,Billing Zip,"
    "Billing Province,Billing Country,Billing Phone,Shipping Name,Shipping Street,Shipping Address1,"
    "Shipping Address2,Shipping Company,Shipping City,Shipping Zip,Shipping Province,Shipping Country,"
    "Shipping Phone,Notes,Note Attributes,Cancelled at,Payment Method,Payment Reference,"
    "Refunded Amount,Vendor,Outstanding Balance,Employee,Location,Device ID,Id,Tags,Risk Level,"
    "Source,Lineitem discount,Tax 1 Name,Tax 1 Value,Phone,Receipt Number,Duties"
)
COLUMNS = _HEADER.split(",")

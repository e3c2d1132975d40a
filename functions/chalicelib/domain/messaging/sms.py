"""SMS length: GSM-7 or UCS-2, and how many parts a message takes, counted before sending.

GSM 03.38: a message in the basic character set (with the extension table's characters
counting twice) takes 160 septets, or 153 per part when concatenated. Any other
character switches the whole message to UCS-2: 70 UTF-16 code units, or 67 per part.
"""

from __future__ import annotations

from dataclasses import dataclass

GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM_EXTENSION = set("\f^{}\\[~]|€")
MAX_PARTS = 10


@dataclass(frozen=True)
class SmsLength:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    parts: int


def measure(text: str) -> SmsLength:
    if all(c in GSM_BASIC or c in GSM_EXTENSION for c in text):
        units = sum(2 if c in GSM_EXTENSION else 1 for c in text)
        return SmsLength("GSM-7", units, 1 if units <= 160 else -(-units // 153))
    units = len(text.encode("utf-16-le")) // 2
    return SmsLength("UCS-2", units, 1 if units <= 70 else -(-units // 67))

"""A customer's time zone when the profile names none: from the phone's country code.

Only countries with one time zone (or one that nearly everyone lives in) are mapped;
elsewhere (+1, +7, +61, +55...) the workspace's default zone applies.
"""

from __future__ import annotations

ZONE_BY_CALLING_CODE = {
    "86": "Asia/Shanghai",
    "852": "Asia/Hong_Kong",
    "853": "Asia/Macau",
    "886": "Asia/Taipei",
    "81": "Asia/Tokyo",
    "82": "Asia/Seoul",
    "65": "Asia/Singapore",
    "60": "Asia/Kuala_Lumpur",
    "66": "Asia/Bangkok",
    "84": "Asia/Ho_Chi_Minh",
    "63": "Asia/Manila",
    "91": "Asia/Kolkata",
    "971": "Asia/Dubai",
    "972": "Asia/Jerusalem",
    "90": "Europe/Istanbul",
    "44": "Europe/London",
    "353": "Europe/Dublin",
    "33": "Europe/Paris",
    "49": "Europe/Berlin",
    "39": "Europe/Rome",
    "34": "Europe/Madrid",
    "31": "Europe/Amsterdam",
    "32": "Europe/Brussels",
    "41": "Europe/Zurich",
    "43": "Europe/Vienna",
    "45": "Europe/Copenhagen",
    "46": "Europe/Stockholm",
    "47": "Europe/Oslo",
    "48": "Europe/Warsaw",
    "30": "Europe/Athens",
    "351": "Europe/Lisbon",
    "358": "Europe/Helsinki",
    "64": "Pacific/Auckland",
    "27": "Africa/Johannesburg",
}


def zone_for_phone(phone: str | None) -> str | None:
    """The zone of an E.164 number's country, when that country has one."""
    if not phone or not phone.startswith("+"):
        return None
    digits = phone[1:]
    for length in (3, 2, 1):
        zone = ZONE_BY_CALLING_CODE.get(digits[:length])
        if zone:
            return zone
    return None

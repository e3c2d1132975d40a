"""A customer's time zone when no source names one: from the address's country, or the
phone's country code.

Only countries with one time zone (or one that nearly everyone lives in) are mapped;
elsewhere (US, CA, RU, AU, BR, MX... and +1, +7, +61, +55) the workspace's default zone
applies.
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


ZONE_BY_COUNTRY = {
    "CN": "Asia/Shanghai",
    "HK": "Asia/Hong_Kong",
    "MO": "Asia/Macau",
    "TW": "Asia/Taipei",
    "JP": "Asia/Tokyo",
    "KR": "Asia/Seoul",
    "SG": "Asia/Singapore",
    "MY": "Asia/Kuala_Lumpur",
    "TH": "Asia/Bangkok",
    "VN": "Asia/Ho_Chi_Minh",
    "PH": "Asia/Manila",
    "IN": "Asia/Kolkata",
    "AE": "Asia/Dubai",
    "IL": "Asia/Jerusalem",
    "TR": "Europe/Istanbul",
    "GB": "Europe/London",
    "IE": "Europe/Dublin",
    "FR": "Europe/Paris",
    "DE": "Europe/Berlin",
    "IT": "Europe/Rome",
    "NL": "Europe/Amsterdam",
    "BE": "Europe/Brussels",
    "CH": "Europe/Zurich",
    "AT": "Europe/Vienna",
    "DK": "Europe/Copenhagen",
    "SE": "Europe/Stockholm",
    "NO": "Europe/Oslo",
    "PL": "Europe/Warsaw",
    "GR": "Europe/Athens",
    "FI": "Europe/Helsinki",
    "NZ": "Pacific/Auckland",
    "ZA": "Africa/Johannesburg",
}


def zone_for_country(code: str | None) -> str | None:
    """The zone of an ISO 3166 alpha-2 country, when that country has one."""
    return ZONE_BY_COUNTRY.get((code or "").strip().upper()) or None

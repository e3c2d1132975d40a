"""Regenerate functions/chalicelib/domain/zones/subdivisions.json (see the README beside it).

    python tools/subdivision_zones.py KI18N_CHECKOUT WORLDWIDE_CHECKOUT WOO_STATES_PHP

KI18N_CHECKOUT: a checkout of KDE's ki18n (its src/localedata/data/subdivision_timezone_map.cpp
is generated from OpenStreetMap's time zone and ISO 3166-2 boundaries, ODbL-1.0, and lists
each subdivision's zones by area, largest first). WORLDWIDE_CHECKOUT: a checkout of Shopify's
`worldwide` (data/regions/XX.yml: the province codes Shopify sends, with their ISO codes).
WOO_STATES_PHP: WooCommerce's plugins/woocommerce/i18n/states.php (the state codes it sends).

Kept: the first zone (by area) of each subdivision of a country that has more than one zone
in tzdata's zone.tab, among the zones zone.tab places in that country (links and zones of
neighbours are skipped). A subdivision Shopify knows but the map does not (Spain's and
Portugal's provinces: the map has their regions) takes the zone zone.tab's comments name
for it ("Brazil (northeast: MA, PI, CE, RN, PB)"), else the zone most of its postcode
prefixes fall in by Shopify's postcode table. Shopify and WooCommerce codes that differ
from the ISO code become aliases, per platform.
"""

from __future__ import annotations

import hashlib
import importlib.resources
import json
import re
import subprocess
import sys
import unicodedata
from collections import Counter
from pathlib import Path
from typing import Any

OUT = Path(__file__).resolve().parent.parent / "functions/chalicelib/domain/zones/subdivisions.json"
MAP = "src/localedata/data/subdivision_timezone_map.cpp"
ENTRY = re.compile(r'subdivisionCodeToKey\("([A-Z]{2})-([A-Z0-9]+)"\), Tz::(\w+)\}')
# zone.tab's comments name some zones' subdivisions: "Brazil (northeast: MA, PI, CE, RN, PB)"
LISTED = re.compile(r"\(\w+: ([A-Z]{2}(?:, [A-Z]{2})*)\)")


def zone_tab() -> tuple[dict[str, set[str]], dict[str, str]]:
    """Country -> its zones, and the subdivisions zone.tab's comments list, per tzdata."""
    text = importlib.resources.files("tzdata.zoneinfo").joinpath("zone.tab").read_text()
    zones: dict[str, set[str]] = {}
    listed: dict[str, str] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            country, _, zone, *comment = line.split("\t")
            zones.setdefault(country, set()).add(zone)
            for found in LISTED.findall(" ".join(comment)):
                listed.update({f"{country}-{code}": zone for code in found.split(", ")})
    return zones, listed


def enum_names(checkout: Path) -> dict[str, str]:
    """Tz enum name (America_Los_Angeles) -> zone (America/Los_Angeles), per tzdata."""
    root = importlib.resources.files("tzdata.zoneinfo")
    names: dict[str, str] = {}
    stack = [("", root)]
    while stack:
        prefix, folder = stack.pop()
        for child in folder.iterdir():
            name = f"{prefix}{child.name}"
            if child.is_dir():
                stack.append((name + "/", child))
            elif "." not in child.name and name[0].isupper():
                names[name.replace("/", "_").replace("-", "_")] = name
    return names


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


def git_head(checkout: Path) -> str:
    return subprocess.run(  # noqa: S603 - a fixed git command on a local checkout
        ["git", "-C", str(checkout), "rev-parse", "HEAD"],  # noqa: S607
        capture_output=True,
        text=True,
        check=False,
    ).stdout.strip()


def _by_postcode(region: dict[str, Any], prefixes: list[str]) -> str | None:
    """The zone most of these postcode prefixes fall in, by the country's postcode table."""
    table = [(str(p), zone) for zone, ps in (region.get("timezones") or {}).items() for p in ps]
    votes: Counter[str] = Counter()
    for prefix in prefixes:
        found = [(len(p), zone) for p, zone in table if prefix.startswith(p) or p.startswith(prefix)]
        if found:
            votes[max(found)[1]] += 1
    return votes.most_common(1)[0][0] if votes else None


def shopify_zones(
    worldwide: Path, countries: list[str]
) -> tuple[dict[str, str | None], dict[str, str], dict[str, str]]:
    """The ISO subdivisions Shopify knows in these countries (with the zone their postcodes
    fall in, when Shopify lists both), its province codes (and their alternates) -> ISO
    subdivision where they differ, and the subdivisions' names (and alternates) -> ISO."""
    import yaml  # PyYAML: a tool's dependency only (it comes with the dev tools)

    known: dict[str, str | None] = {}
    aliases: dict[str, str] = {}
    names: dict[str, str] = {}
    for country in countries:
        path = worldwide / "data/regions" / f"{country}.yml"
        if not path.exists():
            continue
        region = yaml.safe_load(path.read_text())
        for zone in region.get("zones") or []:
            iso = zone.get("iso_code") or f"{country}-{zone.get('code')}"
            if "-" not in iso or int(zone.get("priority") or 0) < 0:
                continue  # a territory filed under the US (its own country), military post
            known[iso] = _by_postcode(region, [str(p) for p in zone.get("zip_prefixes") or []])
            for name in [zone.get("name"), *(zone.get("name_alternates") or [])]:
                names[f"{country}:{_plain(str(name))}"] = iso
            for name in [zone.get("code"), *(zone.get("code_alternates") or [])]:
                alias = f"{country}-{str(name).replace(' ', '').upper().removeprefix(country + '-')}"
                if name and alias != iso:
                    aliases[alias] = iso
    return known, aliases, names


def _plain(name: str) -> str:
    """A name compared without accents, case or punctuation: "Nuevo León" -> "nuevoleon"."""
    return "".join(c for c in unicodedata.normalize("NFKD", name).casefold() if c.isalnum())


WOO_COUNTRY = re.compile(r"'([A-Z]{2})'\s*=>\s*array\((.*?)\n\t\),", re.S)
WOO_STATE = re.compile(r"'([A-Z0-9-]+)'\s*=>\s*__\(\s*'((?:[^'\\]|\\.)*)'")


def woocommerce_aliases(states: Path, zones: dict[str, str], names: dict[str, str]) -> dict[str, str]:
    """WooCommerce state code -> ISO subdivision, where Woo's code is not the ISO one (Mexico's
    JA, DF...): matched on the subdivision's name as Shopify's worldwide writes it, exactly,
    else the one Shopify name the Woo name contains ("Estado de México" -> "México")."""
    aliases: dict[str, str] = {}
    countries = {code[:2] for code in zones}
    for country, body in WOO_COUNTRY.findall(states.read_text()):
        if country not in countries:
            continue
        for code, name in WOO_STATE.findall(body):
            key = f"{country}-{code.removeprefix(country + '-')}"
            plain = _plain(name.replace("\\'", "'"))
            iso = names.get(f"{country}:{plain}")
            if iso is None:
                inside = {v for k, v in names.items() if k.startswith(f"{country}:") and k[3:] in plain}
                iso = inside.pop() if len(inside) == 1 else None
            if key in zones or iso is None:
                if key not in zones:
                    print(f"no ISO subdivision for WooCommerce {key} ({name})", file=sys.stderr)
                continue
            aliases[key] = iso
    return aliases


def main(ki18n: Path, worldwide: Path, woo_states: Path) -> int:
    by_country, listed = zone_tab()
    names = enum_names(ki18n)
    ranked: dict[str, list[str]] = {}
    for country, sub, enum in ENTRY.findall((ki18n / MAP).read_text()):
        zone = names.get(enum)
        if zone and zone in by_country.get(country, set()):
            ranked.setdefault(f"{country}-{sub}", []).append(zone)
    zones = {code: found[0] for code, found in sorted(ranked.items()) if len(by_country[code[:2]]) > 1}
    countries = sorted({code[:2] for code in zones})
    known, aliases, names = shopify_zones(worldwide, countries)
    for code in sorted(set(known) - set(zones)):  # not in the map: zone.tab's comments, postcodes
        by_postcode = known[code]
        if code in listed:
            zones[code] = listed[code]
        elif by_postcode and by_postcode in by_country.get(code[:2], set()):
            zones[code] = by_postcode
        else:
            print(f"no zone for {code}", file=sys.stderr)
    data = {
        "about": "ISO 3166-2 subdivision -> IANA zone, generated by tools/subdivision_zones.py",
        "sources": {
            "ki18n": f"KDE ki18n {git_head(ki18n)} {MAP} (OpenStreetMap contributors, ODbL-1.0)",
            "worldwide": f"Shopify worldwide {git_head(worldwide)} data/regions/*.yml (MIT)",
            "woocommerce": f"WooCommerce i18n/states.php, sha256 {digest(woo_states)} (GPL-3.0)",
            "tzdata": "zone.tab of the pinned tzdata package",
        },
        "zones": dict(sorted(zones.items())),
        "aliases": {
            "shopify": dict(sorted(aliases.items())),
            "woocommerce": dict(sorted(woocommerce_aliases(woo_states, zones, names).items())),
        },
    }
    OUT.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
    print(f"{len(zones)} subdivisions of {len(countries)} countries -> {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]), Path(sys.argv[2]), Path(sys.argv[3])))

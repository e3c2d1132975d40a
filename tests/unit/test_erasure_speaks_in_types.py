"""Privacy and source erasure speak in domain types: no stored attribute, no storage key."""

from __future__ import annotations

import re
from pathlib import Path

DOMAIN = Path(__file__).resolve().parents[2] / "functions" / "chalicelib" / "domain"
SHORT_ATTRIBUTE = re.compile(r'\.get\("[a-z]{1,3}"|\["[a-z]{1,3}"\]|\.get\("(?:xs|mrg|ems|phs)"')


def test_the_privacy_service_reads_no_stored_attribute():
    # Given the privacy service's code
    text = (DOMAIN / "privacy.py").read_text()
    # When it is searched for stored items' attributes and keys
    found = SHORT_ATTRIBUTE.findall(text) + re.findall(r'"W#|"pointer"|"profile"', text)
    # Then it reads profiles by their named fields only
    assert found == []


def test_the_source_erasure_builds_no_storage_key():
    # Given the source erasure's code
    text = (DOMAIN / "source_erasure.py").read_text()
    # When it is searched for key layouts and opaque-key handling
    found = re.findall(r'W#|MOVED|key_of|"P"\)|\.existing\(|\.partition\(f|\["(?:pk|sk|ph|rid|v)"\]', text)
    # Then the store names every item by workspace, source, customer and order ids
    assert found == []

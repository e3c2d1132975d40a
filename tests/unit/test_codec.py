"""DynamoDB attribute-value codec: wire format in and out, Decimal only, never float."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from chalicelib.adapters.codec import from_av, from_item, to_av, to_item


def test_scalars_have_the_wire_types():
    # Given one value of each scalar kind
    # When each is encoded
    # Then it gets its DynamoDB type (bool is not mistaken for a number)
    assert to_av("x") == {"S": "x"}
    assert to_av(True) == {"BOOL": True}
    assert to_av(False) == {"BOOL": False}
    assert to_av(7) == {"N": "7"}
    assert to_av(Decimal("122.00")) == {"N": "122.00"}
    assert to_av(None) == {"NULL": True}
    assert to_av(b"\x00\x01") == {"B": b"\x00\x01"}
    assert to_av({"b", "a"}) == {"SS": ["a", "b"]}


def test_nested_structure_round_trips():
    # Given a profile-like item with nested maps, lists, Decimals, string sets, bools and None
    value = {
        "pk": "W#ws_test#P#c_0123",
        "rev": 3,
        "spent": Decimal("237.37"),
        "gap": Decimal("1.03"),
        "m": True,
        "x": False,
        "aov": None,
        "ems": {"jane.doe@example.com", "jane@work.example"},
        "o": {
            "src_1.5829104638011": {
                "v": 2,
                "c": True,
                "a": Decimal("122.00"),
                "r": Decimal("42.93"),
                "p": ["8012345678901", "8012345679011"],
                "t": "2026-11-20T15:15:30.000000Z",
            },
            "src_2.5127": {"v": 1, "c": False, "oa": Decimal("104.88"), "cur": "EUR"},
        },
        "hist": [["paid", "2026-11-20T15:15:32.000000Z"], ["refund", "x", Decimal("10.00")]],
        "empty_map": {},
        "empty_list": [],
    }
    # When it is encoded and decoded again
    wire = to_av(value)
    back = from_av(wire)
    # Then it is equal, with every number still exact and sets still sets
    assert back == value
    assert isinstance(back["ems"], set)
    assert isinstance(back["spent"], Decimal)
    assert str(back["spent"]) == "237.37"
    assert str(back["o"]["src_1.5829104638011"]["r"]) == "42.93"
    assert back["rev"] == 3
    assert isinstance(back["rev"], int)
    assert back["m"] is True
    assert back["x"] is False
    assert back["aov"] is None


def test_wire_format_is_json_serialisable_like_a_stream_record():
    # Given an encoded item without bytes
    item = {"tot": Decimal("64.00"), "p": {"e": "jane.doe@example.com"}, "li": [], "m": False}
    # When it goes through JSON (as in a Lambda stream event) and back
    wire = json.loads(json.dumps(to_item(item)))
    # Then decoding gives the original values
    assert from_item(wire) == item


@pytest.mark.parametrize(
    ("text", "expected", "kind"),
    [
        ("42", 42, int),
        ("42.50", Decimal("42.50"), Decimal),
        ("-3", -3, int),
        ("1.0", Decimal("1.0"), Decimal),
        ("0.1", Decimal("0.1"), Decimal),
    ],
)
def test_numbers_decode_as_int_or_exact_decimal(text, expected, kind):
    # Given a DynamoDB number
    # When it is decoded
    value = from_av({"N": text})
    # Then integers are ints and fractions are exact Decimals
    assert value == expected
    assert type(value) is kind


def test_number_and_binary_sets_decode():
    # Given number and binary sets on the wire
    # When decoded
    # Then they are Python sets of Decimals and bytes
    assert from_av({"NS": ["1.5", "2"]}) == {Decimal("1.5"), Decimal("2")}
    assert from_av({"BS": [b"a", b"b"]}) == {b"a", b"b"}


@pytest.mark.parametrize("value", [1.5, 0.0, {"a": 1.5}, [Decimal(1), 2.5], {"n": [{"x": 0.1}]}])
def test_float_anywhere_raises_type_error(value):
    # Given a value with a float somewhere in it
    # When it is encoded
    # Then encoding refuses it (floats lose cents)
    with pytest.raises(TypeError):
        to_av(value)


def test_non_string_sets_and_unknown_types_raise():
    # Given a set of numbers and an object DynamoDB cannot hold
    # When encoded
    # Then both are refused
    with pytest.raises(TypeError):
        to_av({1, 2})
    with pytest.raises(TypeError):
        to_av(object())


def test_unknown_wire_type_raises():
    # Given an attribute value of an unknown type
    # When decoded
    # Then it is refused
    with pytest.raises(TypeError):
        from_av({"X": "1"})


def test_to_item_drops_none_attributes_and_from_item_accepts_none():
    # Given an item with a None attribute
    item = {"pk": "p", "num": None, "tot": Decimal("1.00")}
    # When it is encoded as an item
    wire = to_item(item)
    # Then the None attribute is left out, and a missing image decodes to None
    assert set(wire) == {"pk", "tot"}
    assert from_item(wire) == {"pk": "p", "tot": Decimal("1.00")}
    assert from_item(None) is None

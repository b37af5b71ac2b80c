"""The JSON walker keeps each value's exact text."""

from __future__ import annotations

from decimal import Decimal

import pytest
from platform_api_client import rawjson


def test_items_keep_their_text_whatever_the_spacing():
    text = '{"page": 1 , "data" : [ {"a":"\\/x\\u00e9"} ,{"b": 1.50}, [] ] }'
    start = next(start for key, start, _ in rawjson.members(text) if key == "data")

    items = list(rawjson.items(text, start))

    assert [item.text for item in items] == ['{"a":"\\/x\\u00e9"}', '{"b": 1.50}', "[]"]
    assert items[0].value == {"a": "/xé"}
    assert items[1].value == {"b": Decimal("1.50")}


def test_member_text():
    assert rawjson.member_text('{"a":[1, 2],"b":null}', "a") == "[1, 2]"
    assert rawjson.member_text("{}", "a") is None


@pytest.mark.parametrize("text", ["", "[", '{"a" 1}', '{"a":1,}', "[1 2]", '{"a":1'])
def test_malformed_json_is_an_error(text):
    with pytest.raises(rawjson.MalformedJson):
        list(rawjson.items(text)) if text.startswith("[") else list(rawjson.members(text))

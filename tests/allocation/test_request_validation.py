"""The hand-checked allocation request agrees with AllocateSerializer: it accepts only bodies
the serializer accepts, with the same validated data, and leaves every error to it."""

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from rest_framework import serializers

from allocation.api.serializers import (
    AllocateSerializer,
    _allocate_request_fast,
    allocate_request_validate,
)

PLAY_EXAMPLE = {  # the body in API.md
    "record": {
        "type": "lead",
        "id": "00Q5e000001AbCd",
        "crm": "salesforce",
        "fields": {"country": "US", "employees": 620, "products": ["platform", "api"]},
    },
    "play_run": {"id": "run_8812", "url": "https://plays.example.com/runs/8812"},
    "idempotency_key": "run_8812:lead:00Q5e000001AbCd",
    "dry_run": False,
}


def serializer_result(body):
    serializer = AllocateSerializer(data=body)
    if not serializer.is_valid():
        return None
    return json.loads(json.dumps(serializer.validated_data))  # plain dicts


def assert_agrees(body):
    fast = _allocate_request_fast(body)
    if fast is not None:
        assert fast == serializer_result(body), body
    return fast


@pytest.mark.parametrize(
    "body",
    [
        PLAY_EXAMPLE,
        {"record": {"type": "account"}},
        {"record": {"type": "lead", "fields": {}}, "dry_run": True},
        {"record": {"type": "lead", "unknown": 1}, "play_run": {}},
        {"record": {"type": "lead"}, "play_run": {"id": "r1"}, "idempotency_key": ""},
        {"record": {"type": "lead"}, "play_run": {"url": "https://x/run/7"}},
        {"record": {"type": "lead"}, "play_run": {"url": "http://n8n:5678/run/7"}},
    ],
)
def test_common_bodies_are_checked_by_hand(body):
    assert assert_agrees(body) is not None


@pytest.mark.parametrize(
    "body",
    [
        {"record": {"type": "tweet"}},
        {"record": "lead"},
        {"record": {"type": "lead", "fields": []}},
        {"record": {"type": "lead", "fields": None}},
        {"record": {"type": "lead", "fields": {"a": {"b": 1}}}},
        {"record": {"type": "lead", "id": 42}},  # the serializer makes it "42"
        {"record": {"type": "lead", "id": " padded "}},  # the serializer trims it
        {"record": {"type": "lead", "id": "nul\x00"}},
        {"record": {"type": "lead", "id": "x" * 256}},
        {"record": {"type": "lead", "crm": "pipedrive"}},
        {"record": {"type": "lead"}, "dry_run": "true"},
        {"record": {"type": "lead"}, "dry_run": None},
        {"record": {"type": "lead"}, "play_run": None},
        {"record": {"type": "lead"}, "play_run": {"url": "not a url"}},
        {"record": {"type": "lead"}, "play_run": {"url": "ftp://files.example/run/7"}},
        {"record": {"type": "lead"}, "idempotency_key": "k" * 256},
        {"record": {"type": "lead"}, "surprise": 1},
        {"play_run": {}},
        [1, 2],
    ],
)
def test_anything_else_is_left_to_the_serializer(body):
    assert _allocate_request_fast(body) is None


def test_errors_are_worded_by_the_serializer():
    with pytest.raises(serializers.ValidationError) as raised:
        allocate_request_validate({"record": {"type": "tweet"}})
    assert raised.value.detail == {"record": {"type": ['"tweet" is not a valid choice.']}}


text = st.one_of(
    st.sampled_from(
        [
            *("", "lead", "hubspot", "salesforce", " x", "x\x00", "https://a.example"),
            *("http://n8n:5678/run/7", "https://x", "https://", "http://x:99999/", "ftp://x/"),
        ]
    ),
    st.text(max_size=8),
)
json_scalar = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(), text)
json_value = st.recursive(
    json_scalar,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(text, inner, max_size=3),
    max_leaves=6,
)
record = st.fixed_dictionaries(
    {},
    optional={
        "type": st.one_of(st.sampled_from(["lead", "contact", "tweet"]), json_value),
        "id": st.one_of(text, st.integers()),
        "crm": text,
        "fields": st.one_of(st.dictionaries(text, json_value, max_size=3), json_value),
        "extra": json_value,
    },
)
body = st.fixed_dictionaries(
    {},
    optional={
        "record": st.one_of(record, json_value),
        "play_run": st.one_of(
            st.fixed_dictionaries({}, optional={"id": text, "url": text}), json_value
        ),
        "idempotency_key": st.one_of(text, st.integers()),
        "dry_run": st.one_of(st.booleans(), json_value),
        "other": json_value,
    },
)


@settings(max_examples=400, deadline=None)
@given(body)
def test_random_bodies_agree_with_the_serializer(body):
    assert_agrees(body)

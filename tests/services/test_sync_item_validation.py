"""The sync item serializer validates with its own loop over its fields (services.api.SyncItemSerializer): the same
validated items and the same errors as DRF's own Serializer loop, for good items and every kind of bad one."""

import uuid

import pytest
from rest_framework import serializers

from services.api import SyncItemSerializer


class _DrfLoop(SyncItemSerializer):
    """The same fields, validated by DRF's general loop."""

    to_internal_value = serializers.Serializer.to_internal_value
    run_validators = serializers.Serializer.run_validators


GOOD = {
    "client_id": str(uuid.uuid4()),
    "recipient": 17,
    "started_at": "2026-11-03T09:00:00+08:00",
    "ended_at": "2026-11-03T09:40:00+08:00",
    "latitude": 36.2345671,
    "longitude": 115.6712,
    "service_items": ["daily_care", "emotional_support"],
    "note": "基准",
    "offline": True,
}

ITEMS = [
    GOOD,
    {**GOOD, "started_at": "2026-11-03T09:00:00", "ended_at": "2026-11-03T01:40:00Z"},  # naive, UTC
    {"client_id": GOOD["client_id"], "ended_at": GOOD["ended_at"], "service_items": ["daily_care"]},  # check-out
    {**GOOD, "kind": "emergency", "what": "摔倒", "called": "120", "ended_at": None},
    {**GOOD, "note": "  擦身  ", "what": "", "accuracy_m": 12, "checkout_latitude": None, "unknown": 1},
    {**GOOD, "latitude": None, "longitude": None, "recipient": None, "started_at": None},
    {**GOOD, "client_id": "not-a-uuid"},
    {**GOOD, "client_id": None},
    {key: value for key, value in GOOD.items() if key != "client_id"},
    {**GOOD, "recipient": "abc", "started_at": "yesterday", "latitude": "north"},
    {**GOOD, "accuracy_m": -1, "kind": "other", "offline": "maybe"},
    {**GOOD, "accuracy_m": 10**9, "service_items": "daily_care"},
    {**GOOD, "service_items": ["daily_care", "bogus"], "note": "x" * 2001, "called": "y" * 201},
    {**GOOD, "note": None, "what": None, "offline": None},
    {**GOOD, "note": "a\x00b"},
    "not an item",
    ["not", "an", "item"],
    None,
    {},
]


@pytest.mark.parametrize("item", ITEMS, ids=range(len(ITEMS)))
def test_an_item_validates_as_drfs_own_loop_validates_it(item):
    ours = serializers.ListSerializer(child=SyncItemSerializer(), data=[item])
    theirs = serializers.ListSerializer(child=_DrfLoop(), data=[item])

    assert ours.is_valid() == theirs.is_valid()
    assert ours.errors == theirs.errors
    if not ours.errors:
        assert ours.validated_data == theirs.validated_data
        assert [list(v) for v in ours.validated_data] == [list(v) for v in theirs.validated_data]  # key order too


def test_a_whole_batch_validates_alike():
    batch = [item for item in ITEMS if isinstance(item, dict)]
    ours = serializers.ListSerializer(child=SyncItemSerializer(), data=batch)
    theirs = serializers.ListSerializer(child=_DrfLoop(), data=batch)

    assert not ours.is_valid() and not theirs.is_valid()
    assert ours.errors == theirs.errors

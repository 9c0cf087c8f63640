"""Pause messages: encode/decode round trip and every rejection with its reason."""

from __future__ import annotations

import json

import pytest

from mingle_wire import MAX_PAUSE_S, DecodeError, Pause, Topics, decode_pause, encode_pause, parse_topic

T0 = 1764140000.0


def test_round_trip_and_topic() -> None:
    pause = Pause("b-01", T0 + 1800, T0)
    assert decode_pause(json.loads(encode_pause(pause)), "b-01") == pause
    assert "source" not in json.loads(encode_pause(pause))  # the phone's, as before sources
    button = Pause("b-01", T0 + 600, T0, source="button")
    assert decode_pause(json.loads(encode_pause(button)), "b-01") == button
    parsed = parse_topic(Topics("expo").pause("b-01"))
    assert parsed is not None and (parsed.kind, parsed.key) == ("pauses", "b-01")


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"v": 2, "badge": "b-01", "until": T0, "sent": T0}, "unknown_version"),
        ({"v": 1, "until": T0, "sent": T0}, "missing_field:badge"),
        ({"v": 1, "badge": "b-01", "sent": T0}, "missing_field:until"),
        ({"v": 1, "badge": "b 01", "until": T0, "sent": T0}, "bad_id:badge"),
        ({"v": 1, "badge": "b-01", "until": "soon", "sent": T0}, "bad_type:until"),
        ({"v": 1, "badge": "b-01", "until": T0 + MAX_PAUSE_S + 1, "sent": T0}, "pause_too_long"),
        ({"v": 1, "badge": "b-01", "until": T0, "sent": 5.0}, "ts_out_of_range"),
        ({"v": 1, "badge": "b-02", "until": T0, "sent": T0}, "topic_mismatch"),
        ({"v": 1, "badge": "b-01", "until": T0, "sent": T0, "source": "radio"}, "unknown_source"),
        ({"v": 1, "badge": "b-01", "until": T0, "sent": T0, "source": 3}, "bad_type:source"),
    ],
)
def test_rejections_name_their_reason(payload: dict[str, object], reason: str) -> None:
    with pytest.raises(DecodeError) as info:
        decode_pause(payload, "b-01")
    assert info.value.reason == reason


def test_a_pause_in_the_past_is_a_valid_cancel() -> None:
    assert decode_pause({"v": 1, "badge": "b-01", "until": T0 - 1, "sent": T0}).until == T0 - 1

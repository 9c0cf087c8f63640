import pytest

from mingle_wire import Frame, FrameCluster
from pipeline.store import ContactAccumulator

T0 = 1_700_000_000  # a multiple of 20


def frame(ts: float, *groups: tuple[str, ...]) -> Frame:
    clusters = tuple(FrameCluster(f"c-{k}", g, 1.0, 1.0, None, 1.0, T0) for k, g in enumerate(groups))
    return Frame("expo", ts, (), clusters)


def test_pairs_sharing_a_cluster_in_a_window_are_one_contact() -> None:
    acc = ContactAccumulator()
    out = []
    for s in range(0, 45):
        groups = [("a", "b", "c")] if s < 3 else [("a", "b")]
        if s == 25:
            groups.append(("d", "e"))
        out += acc.update(frame(T0 + s, *groups))
    out += acc.flush()
    assert out == [
        (T0, "a", "b"),
        (T0, "a", "c"),
        (T0, "b", "c"),
        (T0 + 20, "a", "b"),
        (T0 + 20, "d", "e"),
        (T0 + 40, "a", "b"),
    ]


def test_window_boundary_is_inclusive_at_start() -> None:
    acc = ContactAccumulator()
    assert acc.update(frame(T0 + 19.9, ("a", "b"))) == []
    assert acc.update(frame(T0 + 20.0, ("a", "c"))) == [(T0, "a", "b")]
    assert acc.flush() == [(T0 + 20, "a", "c")]


def test_out_of_order_and_bad_window_raise() -> None:
    acc = ContactAccumulator()
    acc.update(frame(T0 + 40))
    with pytest.raises(ValueError, match="older"):
        acc.update(frame(T0 + 5))
    with pytest.raises(ValueError, match="window_s"):
        ContactAccumulator(0)

"""Checks on decoded frames and alerts before the dashboard renders them.

The wire decoder builds frames and alerts without checking every field's type, and a broker
is not a trust boundary: a view must never fail half-way through a malformed value, so
:func:`check_frame` and :func:`check_alert` reject one with a ``ValueError`` naming the field.
"""

from __future__ import annotations

from mingle_wire import Alert, Frame, finite_number

__all__ = ["check_alert", "check_frame"]


def _finite(name: str, value: object) -> None:
    if finite_number(value) is None:
        raise ValueError(f"{name} must be a finite number, got {value!r}"[:200])


def _ids(name: str, values: object) -> None:
    if not isinstance(values, tuple) or not all(isinstance(v, str) for v in values):
        raise ValueError(f"{name} must be a list of ids, got {values!r}"[:200])


def check_frame(frame: Frame) -> None:
    """Reject a frame whose fields the views could not render (``ValueError``): the wire
    decoder builds frames without checking every type, and a broker is not a trust boundary."""
    _finite("ts", frame.ts)
    for b in frame.badges:
        if not isinstance(b.badge, str):
            raise ValueError(f"badge must be an id, got {b.badge!r}"[:200])
        _finite("x", b.x)
        _finite("y", b.y)
    for c in frame.clusters:
        _ids("members", c.members)
        for name in ("x", "y", "homogeneity", "since"):
            _finite(name, getattr(c, name))
        if not isinstance(c.id, str) or not (c.company is None or isinstance(c.company, str)):
            raise ValueError(f"cluster id and company must be strings, got {c.id!r}, {c.company!r}"[:200])
        if not (c.zone is None or isinstance(c.zone, str)):
            raise ValueError(f"zone must be a string, got {c.zone!r}"[:200])


def check_alert(alert: Alert) -> None:
    """Like :func:`check_frame`, for alerts."""
    if not all(isinstance(v, str) for v in (alert.id, alert.cluster, alert.company)):
        raise ValueError("alert id, cluster and company must be strings")
    if not (alert.zone is None or isinstance(alert.zone, str)):
        raise ValueError(f"zone must be a string, got {alert.zone!r}"[:200])
    _ids("members", alert.members)
    _ids("nudge", alert.nudge)
    _finite("ts", alert.ts)
    _finite("since", alert.since)
    for name in ("x", "y"):
        value = getattr(alert, name)
        if value is not None:
            _finite(name, value)
    s = alert.suggestion
    if s is not None:
        _finite("suggestion.distance_m", s.distance_m)
        _ids("suggestion.companies", s.companies)
        _ids("suggestion.shared_interests", s.shared_interests)

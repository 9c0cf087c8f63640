"""JSON forms of the pipeline's outputs: frames and alerts (encode, and decode for readers).

Inbound messages and the JSON helpers live in :mod:`.codec`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from .codec import dumps
from .errors import DecodeError
from .messages import PROTOCOL_VERSION, Alert, Frame, FrameBadge, FrameCluster, Suggestion

__all__ = ["alert_from_dict", "alert_to_dict", "encode_alert", "encode_frame", "frame_from_dict", "frame_to_dict"]


def frame_to_dict(frame: Frame) -> dict[str, Any]:
    return {
        "v": PROTOCOL_VERSION,
        "site": frame.site,
        "ts": round(frame.ts, 3),
        "badges": [
            {"badge": b.badge, "x": round(b.x, 2), "y": round(b.y, 2), "err": round(b.err, 2)} for b in frame.badges
        ],
        "clusters": [
            {
                "id": c.id,
                "members": list(c.members),
                "x": round(c.x, 2),
                "y": round(c.y, 2),
                "company": c.company,
                "homogeneity": round(c.homogeneity, 3),
                "since": round(c.since, 3),
                "zone": c.zone,
            }
            for c in frame.clusters
        ],
    }


def encode_frame(frame: Frame) -> bytes:
    return dumps(frame_to_dict(frame))


def frame_from_dict(obj: Mapping[str, Any]) -> Frame:
    """Build a :class:`Frame` from its JSON form (as written by :func:`frame_to_dict`)."""
    try:
        return Frame(
            site=obj["site"],
            ts=float(obj["ts"]),
            badges=tuple(FrameBadge(b["badge"], b["x"], b["y"], b["err"]) for b in obj["badges"]),
            clusters=tuple(
                FrameCluster(
                    id=c["id"],
                    members=tuple(c["members"]),
                    x=c["x"],
                    y=c["y"],
                    company=c["company"],
                    homogeneity=c["homogeneity"],
                    since=c["since"],
                    zone=c.get("zone"),
                )
                for c in obj["clusters"]
            ),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise DecodeError("bad_frame", str(exc)[:200]) from exc


def _suggestion_to_dict(s: Suggestion) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": s.kind, "x": round(s.x, 2), "y": round(s.y, 2), "distance_m": round(s.distance_m, 2)}
    if s.cluster is not None:
        out["cluster"] = s.cluster
    if s.badge is not None:
        out["badge"] = s.badge
    out["companies"] = list(s.companies)
    out["shared_interests"] = list(s.shared_interests)
    return out


def alert_to_dict(alert: Alert) -> dict[str, Any]:
    out: dict[str, Any] = {
        "v": PROTOCOL_VERSION,
        "id": alert.id,
        "site": alert.site,
        "ts": round(alert.ts, 3),
        "cluster": alert.cluster,
        "company": alert.company,
        "members": list(alert.members),
        "since": round(alert.since, 3),
        "zone": alert.zone,
        "nudge": list(alert.nudge),
        "held_out": alert.held_out,
        "suggestion": None if alert.suggestion is None else _suggestion_to_dict(alert.suggestion),
    }
    if alert.x is not None and alert.y is not None:
        out["x"] = round(alert.x, 2)
        out["y"] = round(alert.y, 2)
    return out


def encode_alert(alert: Alert) -> bytes:
    return dumps(alert_to_dict(alert))


def alert_from_dict(obj: Mapping[str, Any]) -> Alert:
    """Build an :class:`Alert` from its JSON form (as written by :func:`alert_to_dict`)."""
    try:
        s = obj.get("suggestion")
        suggestion = (
            None
            if s is None
            else Suggestion(
                kind=s["kind"],
                x=s["x"],
                y=s["y"],
                distance_m=s["distance_m"],
                cluster=s.get("cluster"),
                badge=s.get("badge"),
                companies=tuple(s.get("companies", ())),
                shared_interests=tuple(s.get("shared_interests", ())),
            )
        )
        return Alert(
            id=obj["id"],
            site=obj["site"],
            ts=float(obj["ts"]),
            cluster=obj["cluster"],
            company=obj["company"],
            members=tuple(obj["members"]),
            since=float(obj["since"]),
            nudge=tuple(obj.get("nudge", ())),
            held_out=bool(obj.get("held_out", False)),
            zone=obj.get("zone"),
            suggestion=suggestion,
            x=obj.get("x"),
            y=obj.get("y"),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise DecodeError("bad_alert", str(exc)[:200]) from exc

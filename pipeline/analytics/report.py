"""``mingle report``: one self-contained HTML page of post-event mixing analytics.

Charts are inline SVG generated here; no script, stylesheet or image is loaded from anywhere.
"""

from __future__ import annotations

import math
import time
from collections import Counter
from collections.abc import Callable, Mapping
from html import escape

import numpy as np

from ..store.db import EventStore
from . import svg
from .nudges import MIN_PER_ARM, Efficacy, nudge_efficacy
from .summary import MixingSummary, summarize_mixing

__all__ = ["render_report"]

CSS = (
    "body{font-family:system-ui,sans-serif;max-width:900px;margin:2em auto;color:#222}"
    "table{border-collapse:collapse}td,th{padding:2px 8px;border-bottom:1px solid #ddd;text-align:right}"
    "td:first-child,th:first-child{text-align:left}.note{color:#555;font-size:90%}"
)


def _fmt(x: float, digits: int = 3) -> str:
    return "n/a" if math.isnan(x) else f"{x:.{digits}f}"


def _clock(ts: float, relative: bool, bin_s: float) -> str:
    if bin_s >= 86400:
        return f"day {ts // 86400 + 1:.0f}" if relative else time.strftime("%d %b", time.gmtime(ts))
    return f"{int(ts // 3600):02d}:{int(ts % 3600 // 60):02d}" if relative else time.strftime("%H:%M", time.gmtime(ts))


def _mixing_sections(m: MixingSummary, relative: bool, top: int, bin_s: float, min_size: int) -> list[str]:
    unit = "day" if bin_s >= 86400 else "hour" if bin_s >= 3600 else f"{bin_s / 60:.0f} minutes"
    out = [
        "<h2>Assortativity</h2>",
        "<table><tr><th>measure</th><th>weighted (contact time)</th><th>unweighted (distinct pairs)</th></tr>",
        f"<tr><td>Newman assortativity r</td><td>{_fmt(m.r_weighted)}</td><td>{_fmt(m.r_unweighted)}</td></tr>",
        f"<tr><td>share within company</td><td>{_fmt(m.within_weighted)}</td><td>{_fmt(m.within_unweighted)}</td>"
        "</tr></table>",
        '<p class="note">r = 1: people only met their own company; 0: as if they mixed at random.</p>',
        "<h2>Mixing index over time</h2>",
        f'<p class="note">Share of contact time spent with people from other companies, per {unit} (UTC); '
        "gaps are bins without contact.</p>",
        svg.line_chart([_clock(t, relative, bin_s) for t in m.bins], m.mixing_index, label=f"mixing index per {unit}"),
        "<h2>Insularity by company</h2>",
        '<p class="note">Share of each delegation\'s contact time spent with colleagues, most insular first; '
        "small delegations are pooled so nobody is singled out.</p>",
    ]
    labels = [i.company if i.companies == 1 else f"{i.company} ({i.companies})" for i in m.insularity]
    out.append(svg.bar_chart(labels, [i.share for i in m.insularity], label="insularity by company"))
    row = m.e_weighted.sum(axis=1)[: len(m.companies)]
    # Named companies only: a delegation smaller than min_size is pooled above, and named here
    # cell by cell it would be singled out after all.
    big = [k for k in np.argsort(-row, kind="stable") if m.sizes[k] >= min_size and row[k] > 0]
    keep = big[:top]
    names = [m.companies[k] for k in keep]
    out += [
        "<h2>Cross-company contact</h2>",
        f'<p class="note">Mixing matrix e (share of all contact time) for the {len(keep)} most social companies '
        f"of at least {min_size} people.</p>",
        svg.heat_map(m.e_weighted[np.ix_(keep, keep)], names, names, label="cross-company contact matrix"),
    ]
    met = np.bincount(m.companies_met) if m.companies_met.size else np.zeros(1, dtype=np.int64)
    out += [
        "<h2>New companies met</h2>",
        f'<p class="note">Attendees by number of other companies they had face-to-face contact with '
        f"(median {_fmt(float(np.median(m.companies_met)) if m.companies_met.size else math.nan, 1)}).</p>",
        svg.histogram(met, label="companies met", x_label="other companies met"),
    ]
    return out


def _huddle_sections(store: EventStore, alerts: list[dict[str, object]]) -> list[str]:
    meta = store.meta()
    eps = [e for e in store.episodes() if e["company"] is not None and e["homogeneity"] >= 0.75 and e["max_size"] >= 3]
    if not eps and not alerts:
        return ["<h2>Huddles</h2><p>No huddle episodes or alerts in this store (e.g. imported contact data).</p>"]
    out = ["<h2>Huddles</h2>"]
    if eps and "floor_width" in meta and "floor_height" in meta:
        fw, fh = float(meta["floor_width"]), float(meta["floor_height"])
        nx, ny = 16, max(1, round(16 * fh / fw))
        grid, _, _ = np.histogram2d(
            [e["y"] for e in eps], [e["x"] for e in eps], bins=[ny, nx], range=[[0, fh], [0, fw]]
        )
        out += [
            '<p class="note">Where same-company huddles stood (venue plan, north up).</p>',
            svg.heat_map(grid[::-1], [""] * ny, [""] * nx, label="huddle heat map", cell=24),
        ]
    by_hour = Counter(time.strftime("%H:00", time.gmtime(float(e["start"]))) for e in eps)
    hours = sorted(by_hour)
    if hours:
        out += [
            '<p class="note">Same-company huddle episodes starting per hour (UTC).</p>',
            svg.bar_chart(hours, [by_hour[h] for h in hours], label="huddles by hour", x_max=max(by_hour.values())),
        ]
    return out


def _efficacy_section(eff: Efficacy) -> list[str]:
    a, h = eff.alerted, eff.held_out

    def share(xs: tuple[float, ...]) -> str:
        return _fmt(float(np.mean(xs))) if xs else "n/a"

    def mean(xs: tuple[float, ...]) -> str:
        return _fmt(float(np.mean(xs)), 0) if xs else "n/a"

    d, j = eff.dispersal_diff, eff.joined_diff
    out = [
        "<h2>Nudge efficacy</h2>",
        "<table><tr><th></th><th>alerted</th><th>held out</th><th>difference (95% bootstrap CI)</th></tr>",
        f"<tr><td>alerts</td><td>{a.alerts}</td><td>{h.alerts}</td><td></td></tr>",
        f"<tr><td>mean seconds until the huddle dispersed</td><td>{mean(a.dispersal_s)}</td><td>{mean(h.dispersal_s)}"
        f"</td><td>{_fmt(d[0], 0)} ({_fmt(d[1], 0)} to {_fmt(d[2], 0)})</td></tr>",
        f"<tr><td>share who joined a mixed group within 5 min</td><td>{share(a.joined)}</td><td>{share(h.joined)}</td>"
        f"<td>{_fmt(j[0])} ({_fmt(j[1])} to {_fmt(j[2])})</td></tr></table>",
        '<p class="note">Both arms: every member of the huddle, nudged or not (intention to treat: a held-out '
        "alert picks nobody, and those a nudge would pick are not a random draw of the members). Hold-outs are "
        "drawn at random by the alert policy, so the difference estimates the effect of nudging a huddle; the "
        "interval resamples alerts.</p>",
    ]
    if eff.too_little_data:
        out.append(
            f"<p><strong>Too little data:</strong> fewer than {MIN_PER_ARM} alerts in an arm; "
            "these numbers cannot tell a working nudge from chance.</p>"
        )
    return out


def render_report(
    store: EventStore,
    company_of: Mapping[str, str] | None = None,
    *,
    min_size: int = 5,
    top: int = 15,
    seed: int = 0,
    progress: Callable[[str], None] | None = None,
) -> str:
    """The report's HTML. ``company_of`` (a roster) overrides the store's own people table."""
    say = progress or (lambda _stage: None)
    say("contacts")
    people = dict(company_of) if company_of is not None else store.people()
    contacts = store.contacts()
    meta = store.meta()
    say("mixing")
    relative = bool(contacts.t.size) and float(contacts.t.max()) < 1e9  # SocioPatterns: seconds since start
    span = float(contacts.t.max() - contacts.t.min()) if contacts.t.size else 0.0
    # a multi-day study reads best per day, a day per hour, a short event per quarter hour
    bin_s = 86400.0 if span > 2 * 86400 else 3600.0 if span > 6 * 3600 else 900.0
    m = summarize_mixing(contacts, people, min_size=min_size, bin_s=bin_s)
    title = f"Mixing report — {meta.get('site') or meta.get('tij') or store.path.name}"
    body = [
        f"<h1>{escape(title)}</h1>",
        f"<p>{m.people} people with contacts ({len(people)} known) in {len(m.companies)} companies; "
        f"{m.contacts} contacts (20 s windows) between {m.pairs} distinct pairs.</p>",
    ]
    body += _mixing_sections(m, relative, top, bin_s, min_size)
    say("huddles")
    alerts = store.alerts()
    body += _huddle_sections(store, list(alerts))
    say("nudges")
    if alerts:
        body += _efficacy_section(nudge_efficacy(alerts, store.episodes(), store.episode_members(), seed=seed))
    else:
        body.append("<h2>Nudge efficacy</h2><p>No alerts in this store: nothing to compare.</p>")
    say("done")
    return (
        f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>{escape(title)}</title>'
        f"<style>{CSS}</style></head><body>" + "\n".join(body) + "</body></html>\n"
    )

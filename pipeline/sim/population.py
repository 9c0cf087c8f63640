"""Who comes to the simulated event: companies, names, roles, interests, opt-outs.

Company sizes are heavy-tailed, as at real trade events: a few large delegations
(10–25 people per 300 attendees), a tail of small teams drawn from a power law
P(s) ∝ s^-1.8 on 1..9 (so most companies send one to three people). Each booth is staffed by
two people of one exhibiting company: half the booths belong to a company that also sends
delegates, the others to a company that only sends its two staff. Everything is drawn
from the generator the caller owns, so the same seed gives the same roster.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np

from pipeline.roster import Attendee, Roster

__all__ = ["INTERESTS", "ORGANIZERS", "Cast", "build_cast", "company_sizes"]

#: The small, fixed vocabulary of interests (``;``-separated in ``roster.csv``).
INTERESTS: Final = (
    "ai",
    "cloud",
    "security",
    "data",
    "devops",
    "iot",
    "robotics",
    "fintech",
    "health",
    "energy",
    "mobile",
    "design",
    "hardware",
    "edtech",
    "gaming",
    "open-source",
)
#: The organizers' company name.
ORGANIZERS: Final = "Event Organizers"

_FIRST: Final = (
    "Ada", "Ben", "Chloe", "Dev", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jonas", "Kemi", "Lars",
    "Maya", "Nikhil", "Olga", "Pablo", "Quinn", "Rosa", "Sami", "Tara", "Umar", "Vera", "Wei", "Xenia",
    "Yusuf", "Zoe", "Amara", "Bruno", "Carmen", "Dmitri", "Esther", "Felix", "Gita", "Hugo", "Ivy", "Jamal",
    "Kaito", "Lena", "Marco", "Nadia", "Oscar", "Priya", "Rafael", "Sofia", "Tomas", "Uma", "Viktor", "Wanda",
)  # fmt: skip
_LAST: Final = (
    "Abebe", "Berg", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Hansen", "Ivanova", "Jensen",
    "Kowalski", "Lopez", "Mensah", "Nakamura", "Okafor", "Petrov", "Quispe", "Rossi", "Sato", "Tanaka",
    "Usman", "Varga", "Wagner", "Xu", "Yilmaz", "Zhang", "Almeida", "Brown", "Chen", "Diaz", "Evans",
    "Ferreira", "Gupta", "Horvat", "Iyer", "Jovanovic", "Kim", "Larsen", "Moreau", "Novak", "Olsen", "Park",
)  # fmt: skip
_STEM: Final = (
    "Northwind", "Bluepeak", "Cobalt", "Driftwood", "Ember", "Fjord", "Granite", "Harbor", "Ironleaf",
    "Juniper", "Kestrel", "Lumen", "Meridian", "Nimbus", "Orchid", "Pinecrest", "Quarry", "Redwood",
    "Saffron", "Tidal", "Umbra", "Vantage", "Willow", "Xylo", "Yarrow", "Zephyr", "Aster", "Birch",
    "Cinder", "Delta", "Echo", "Flint",
)  # fmt: skip
_KIND: Final = (
    "Analytics", "Systems", "Labs", "Robotics", "Health", "Energy", "Software", "Networks", "Bank",
    "Studio", "Devices", "Logistics", "Security", "Cloud", "Foods", "Media",
)  # fmt: skip
_POWER_LAW_EXPONENT: Final = 1.8
_SMALL_MAX: Final = 9


@dataclass(frozen=True, slots=True)
class Cast:
    """The roster plus what the roster file does not say.

    ``unknown`` are badge ids on the floor that are not on the roster; ``booth_company``
    and ``booth_staff`` give, per booth index, the exhibiting company and its two staff.
    """

    roster: Roster
    unknown: tuple[str, ...]
    booth_company: tuple[str, ...]
    booth_staff: tuple[tuple[str, str], ...]


def company_sizes(people: int, rng: np.random.Generator) -> list[int]:
    """Heavy-tailed company sizes summing to ``people``, largest first.

    About one delegation of 10–25 per 75 people (never more than half of them), the rest
    from P(s) ∝ s^-1.8 on 1..9, the last one cut to fit.
    """
    sizes: list[int] = []
    remaining = people
    big = round(people / 75)
    for _ in range(big):
        size = int(rng.integers(10, 26))
        if size > remaining - people // 2:
            break
        sizes.append(size)
        remaining -= size
    support = np.arange(1, _SMALL_MAX + 1)
    weights = support.astype(np.float64) ** -_POWER_LAW_EXPONENT
    weights /= weights.sum()
    while remaining > 0:
        size = min(int(rng.choice(support, p=weights)), remaining)
        sizes.append(size)
        remaining -= size
    return sorted(sizes, reverse=True)


def _company_names(count: int, rng: np.random.Generator) -> list[str]:
    combos = [f"{stem} {kind}" for stem in _STEM for kind in _KIND]
    order = rng.permutation(len(combos))
    names = [combos[int(i)] for i in order[: min(count, len(combos))]]
    names += [f"{combos[int(order[i % len(combos)])]} {2 + i // len(combos)}" for i in range(len(names), count)]
    return names


def _interests(focus: tuple[int, int], rng: np.random.Generator) -> tuple[str, ...]:
    picks: set[int] = set()
    for _ in range(int(rng.integers(1, 4))):
        picks.add(focus[int(rng.integers(0, 2))] if rng.random() < 0.6 else int(rng.integers(0, len(INTERESTS))))
    return tuple(INTERESTS[i] for i in sorted(picks))


def build_cast(attendees: int, booths: int, unknown: int, opt_out_fraction: float, rng: np.random.Generator) -> Cast:
    """Draw the event's people: ``attendees`` roster entries and ``unknown`` extra badges.

    Organizers are 1 % (at least one), speakers 2 % of the roster, staff two per booth.
    Badge numbers are a random permutation, so colleagues do not get consecutive badges.
    """
    organizers = max(1, round(0.01 * attendees))
    delegates = attendees - organizers - 2 * booths
    if delegates < 1:
        raise ValueError(f"attendees {attendees} leave no delegates after {organizers} organizers and booth staff")
    sizes = company_sizes(delegates, rng)
    names = _company_names(len(sizes) + booths, rng)
    # (company, role) per person, built company by company.
    people: list[tuple[str, str]] = [
        (name, "attendee") for name, size in zip(names, sizes, strict=False) for _ in range(size)
    ]
    booth_company: list[str] = []
    spare = iter(names[len(sizes) :])
    delegations = [name for name, size in zip(names, sizes, strict=False) if size >= 2]
    for _ in range(booths):
        if delegations and rng.random() < 0.5:
            company = delegations.pop(int(rng.integers(0, len(delegations))))
        else:
            company = next(spare)
        booth_company.append(company)
        people += [(company, "staff"), (company, "staff")]
    people += [(ORGANIZERS, "organizer")] * organizers
    plain = [i for i, (_, role) in enumerate(people) if role == "attendee"]
    for i in rng.choice(plain, size=min(len(plain), round(0.02 * attendees)), replace=False):
        people[int(i)] = (people[int(i)][0], "speaker")
    focus = {name: (int(rng.integers(0, len(INTERESTS))), int(rng.integers(0, len(INTERESTS)))) for name in names}
    focus[ORGANIZERS] = (0, 1)
    total = attendees + unknown
    digits = max(4, len(str(total)))
    numbers = rng.permutation(total) + 1
    badge = [f"b-{int(n):0{digits}d}" for n in numbers]
    opted = set(int(i) for i in rng.choice(attendees, size=round(opt_out_fraction * attendees), replace=False))
    roster: list[Attendee] = []
    staff: dict[str, list[str]] = {}
    for i, (company, role) in enumerate(people):
        name = f"{_FIRST[int(rng.integers(0, len(_FIRST)))]} {_LAST[int(rng.integers(0, len(_LAST)))]}"
        roster.append(Attendee(badge[i], company, name, role, i in opted, _interests(focus[company], rng)))
        if role == "staff":
            staff.setdefault(company, []).append(badge[i])
    roster.sort(key=lambda a: a.badge)
    return Cast(
        roster=Roster(roster),
        unknown=tuple(sorted(badge[attendees:])),
        booth_company=tuple(booth_company),
        booth_staff=tuple((staff[c][0], staff[c][1]) for c in booth_company),
    )

"""Who counts in a group, and which company dominates it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

__all__ = ["Composition", "Person", "compose"]


@dataclass(frozen=True, slots=True)
class Person:
    """What the policy needs to know about a roster badge."""

    company: str
    role: str = "attendee"
    opt_out: bool = False
    interests: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Composition:
    """``counted``: members on the roster whose role is not exempt; ``company``: the most
    common company among them (ties broken by name), ``share`` its fraction (0 if none);
    ``companies`` the companies among them (sorted) and ``counts`` how many of each."""

    counted: tuple[str, ...]
    company: str | None
    share: float
    companies: tuple[str, ...]
    counts: tuple[int, ...]

    def count(self, company: str) -> int:
        """How many counted members work for ``company``."""
        try:
            return self.counts[self.companies.index(company)]
        except ValueError:
            return 0


def compose(members: Iterable[str], people: Mapping[str, Person], exempt_roles: Iterable[str]) -> Composition:
    exempt = exempt_roles if isinstance(exempt_roles, frozenset) else frozenset(exempt_roles)
    counted: list[str] = []
    tally: dict[str, int] = {}
    for m in members:
        person = people.get(m)
        if person is not None and person.role not in exempt:
            counted.append(m)
            tally[person.company] = tally.get(person.company, 0) + 1
    if not counted:
        return Composition((), None, 0.0, (), ())
    company, top = min(tally.items(), key=lambda kv: (-kv[1], kv[0]))
    companies = tuple(sorted(tally))
    return Composition(tuple(counted), company, top / len(counted), companies, tuple(tally[c] for c in companies))

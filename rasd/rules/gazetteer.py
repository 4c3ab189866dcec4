"""The gazetteer: places with Arabic and English names, in a hierarchy (site -> country).

The shipped one (gazetteer.yaml, Iraq and its neighbours) is what rules' ``places`` are checked
against and what the matcher reports.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Literal

import yaml
from pydantic import Field, TypeAdapter, model_validator

from rasd.rules.schema import Name, Strict, Term


class Place(Strict):
    id: Name
    kind: Literal["country", "region", "governorate", "city", "site"]
    within: Name | None = Field(default=None, alias="in")
    en: tuple[Term, ...] = ()
    ar: tuple[Term, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return self.en + self.ar


class Gazetteer(Strict):
    places: tuple[Place, ...]

    @model_validator(mode="after")
    def _consistent(self) -> Gazetteer:
        ids = [p.id for p in self.places]
        if len(ids) != len(set(ids)):
            raise ValueError("duplicate place ids")
        for place in self.places:
            if place.within is not None and place.within not in ids:
                raise ValueError(f"{place.id}: unknown parent {place.within!r}")
        return self

    @property
    def ids(self) -> list[str]:
        return [p.id for p in self.places]

    def ancestors(self, place_id: str) -> list[str]:
        """``k1`` -> ``["kirkuk", "iraq"]``."""
        parents = {p.id: p.within for p in self.places}
        chain: list[str] = []
        current = parents.get(place_id)
        while current is not None and current not in chain:
            chain.append(current)
            current = parents.get(current)
        return chain


def parse_gazetteer(text: str) -> Gazetteer:
    return Gazetteer(places=TypeAdapter(tuple[Place, ...]).validate_python(yaml.safe_load(text)))


@cache
def default_gazetteer() -> Gazetteer:
    text = resources.files("rasd.rules").joinpath("gazetteer.yaml").read_text(encoding="utf-8")
    return parse_gazetteer(text)

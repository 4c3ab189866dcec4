"""The JSON of the records that cross processes, as the hot paths read and write it.

The records are the pydantic models of :mod:`rasd.models` (and the stories'
:class:`~rasd.streams.stories.Candidate`); they define the wire format, and every other
consumer (console, notify, tests) reads it with pydantic. The worker's match stage and stories
agent, its state writes and the backtest's reader go through this module instead of the
models' own methods:

>>> article = decode_article(b'{"id":"a1","outlet":"o","feed":"f","lang":"en","title":"t"}')
>>> encode(article) == article.model_dump_json().encode()
True

**Reading** is pydantic-core's validator of the model itself (``validate_json``): one parse of
the JSON straight into the model, the same records accepted and rejected with the same values
and errors as ``model_validate_json`` (which calls it through a Python wrapper: about 10% of an
Article's parse). msgspec was measured in its place (a Struct derived from each model's fields,
then the model built from it without validating again, and pydantic for whatever msgspec could
not read exactly as pydantic does): msgspec's parse is fast, but building the pydantic objects
in Python cost what it saved, and more for records with nested ones (bench/codec.py's
development: an Article 5.2 against 4.7 us, a Candidate 24 against 20 us at load 2-4).

The backtest and the match stage, which read every article, have :func:`read_article`: the same
Articles (the same records accepted, values, fields set and errors), from msgspec for an Article
as the connectors write it, every field given, and from ``decode_article`` for anything else. What
makes it pay where the general Structs did not: no field is optional (no default to fill in),
the times are read by pydantic's own validators from the strings msgspec leaves (no copy of
their raw JSON, no guard), and the model is made by C calls (``msgspec.structs.asdict``, the
slots' setters) with no Python per field (2 KB articles in the backtest's reader: 6.7 against
11.2 us, ARCHITECTURE.md, Backtests).

**Writing** is msgspec's encoder over the model's fields: the bytes of ``model_dump_json()``,
byte for byte, for every record here (no aliases, computed fields or serializers of their own;
datetimes, enums, tuples and nested models come out as pydantic writes them), at 2-5x less
(bench/codec.py). tests/unit/test_codec.py checks it on valid records and thousands of variants.

A record of several (the story candidates of one rule and match-stage batch) is a JSON array:
:func:`arrays` joins values already encoded, under a byte limit, and :func:`list_decoder` reads
the array in one parse, each element as :func:`decoder` reads one.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any, TypeVar

import msgspec
from pydantic import BaseModel, TypeAdapter

from rasd.models import Alert, Article, Match

Model = TypeVar("Model", bound=BaseModel)


def decoder(model: type[Model]) -> Callable[[bytes | str], Model]:
    """``model.model_validate_json``, without its Python wrapper.

    >>> decoder(Article)(b'{"id":"a1","outlet":"o","feed":"f","lang":"en","title":"t"}').id
    'a1'
    """
    return model.__pydantic_validator__.validate_json


def list_decoder(model: type[Model]) -> Callable[[bytes | str], list[Model]]:
    """A JSON array of ``model`` records read in one parse, each as :func:`decoder` reads one.

    >>> read = list_decoder(Article)
    >>> [a.id for a in read(b'[{"id":"a1","outlet":"o","feed":"f","lang":"en","title":"t"}]')]
    ['a1']
    """
    return TypeAdapter(list[model]).validator.validate_json


def arrays(encoded: Iterable[bytes], max_bytes: int) -> list[bytes]:
    """JSON arrays of the ``encoded`` values in their order, each at most ``max_bytes`` long.

    A value longer than ``max_bytes`` on its own gets an array of its own (and is longer).

    >>> arrays([b'{"a":1}', b'{"b":2}', b'{"c":3}'], 17)
    [b'[{"a":1},{"b":2}]', b'[{"c":3}]']
    """
    out: list[bytes] = []
    chunk: list[bytes] = []
    size = 1  # the brackets, less the comma the first value does not need
    for value in encoded:
        if chunk and size + len(value) + 1 > max_bytes:
            out.append(b"[" + b",".join(chunk) + b"]")
            chunk, size = [], 1
        chunk.append(value)
        size += len(value) + 1
    if chunk:
        out.append(b"[" + b",".join(chunk) + b"]")
    return out


def _fields(obj: Any) -> Any:
    if isinstance(obj, BaseModel):
        # A model's fields, in their order: what model_dump_json writes for the records here.
        return obj.__dict__
    raise NotImplementedError(f"cannot encode {type(obj).__name__}")


_encoder = msgspec.json.Encoder(enc_hook=_fields)


def encode(
    record: BaseModel, exclude: frozenset[str] = frozenset(), extra: dict[str, Any] | None = None
) -> bytes:
    """``record.model_dump_json(exclude=exclude).encode()``, written by msgspec; ``extra``
    (JSON values, or records) are written after the record's fields."""
    fields = record.__dict__
    if exclude or extra:
        fields = {name: value for name, value in fields.items() if name not in exclude}
        fields.update(extra or ())
    return _encoder.encode(fields)


decode_article: Callable[[bytes | str], Article] = decoder(Article)
decode_match: Callable[[bytes | str], Match] = decoder(Match)
decode_alert: Callable[[bytes | str], Alert] = decoder(Alert)


def constructible(model: type[BaseModel]) -> bool:
    """Whether :func:`construct` makes ``model`` as pydantic would from the same valid values:
    no validator, serializer or computed field of the model's own, no private attributes, no
    extra fields allowed (all of which construction skips)."""
    decorators = model.__pydantic_decorators__
    own = any(getattr(decorators, f.name) for f in dataclasses.fields(decorators))
    return not (own or model.__private_attributes__ or model.model_config.get("extra") == "allow")


# BaseModel's slots, set as model_construct sets them (cheaper than object.__setattr__).
_set_dict = object.__setattr__
_set_fields_set = BaseModel.__dict__["__pydantic_fields_set__"].__set__
_set_extra = BaseModel.__dict__["__pydantic_extra__"].__set__
_set_private = BaseModel.__dict__["__pydantic_private__"].__set__


def construct(model: type[Model], values: dict[str, Any], fields_set: set[str]) -> Model:
    """A ``model`` holding ``values`` (every field, in order, valid already) as its fields, as
    ``model_construct`` sets them, without validating them or filling in defaults: for
    records read or built from parts pydantic has validated, where validating again costs
    more than the rest of the work (callers check :func:`constructible` first)."""
    built = object.__new__(model)
    _set_dict(built, "__dict__", values)
    _set_fields_set(built, fields_set)
    _set_extra(built, None)
    _set_private(built, None)
    return built


def _article_reader() -> Callable[[bytes | str], Article]:
    """``decode_article``, sooner for an Article as the connectors write one (every field given,
    the times as strings): msgspec parses the JSON into a Struct of the Article's fields, each
    time left a string for pydantic's own validator of that field (msgspec rounds a seventh
    digit of a second that pydantic truncates), and the Article is made as ``model_construct``
    makes one. Anything else (a field missing, an unknown one, a value of another type, JSON
    msgspec refuses, a time pydantic refuses) is left to ``decode_article``, so the records
    accepted, their values, fields set and errors are pydantic's (tests/unit/test_codec.py).
    """
    if not constructible(Article):
        # What the construction below would skip: then pydantic reads every Article.
        return decode_article
    wire_types = {str: str, str | None: str | None, datetime: str, datetime | None: str | None}
    fields = Article.model_fields
    # Every field required: a default (a time of decoding, a field left unset) is pydantic's.
    wire = msgspec.defstruct(
        "ArticleWire",
        [(name, wire_types[info.annotation]) for name, info in fields.items()],
        forbid_unknown_fields=True,
    )
    parse = msgspec.json.Decoder(wire).decode
    as_dict, names, fallback = msgspec.structs.asdict, tuple(fields), decode_article
    read_published = TypeAdapter(fields["published_at"].annotation).validator.validate_python
    read_fetched = TypeAdapter(fields["fetched_at"].annotation).validator.validate_python

    def read(raw: bytes | str) -> Article:
        try:
            values = as_dict(parse(raw))
            values["published_at"] = read_published(values["published_at"])
            values["fetched_at"] = read_fetched(values["fetched_at"])
        except (msgspec.DecodeError, ValueError):  # pydantic's ValidationError is a ValueError
            return fallback(raw)
        return construct(Article, values, set(names))

    return read


# The backtest's and the match stage's reader: every article is read, and decode_article cost a
# third more on the backtest's 2 KB articles (ARCHITECTURE.md, Backtests).
read_article: Callable[[bytes | str], Article] = _article_reader()

__all__ = [
    "arrays",
    "construct",
    "constructible",
    "decode_alert",
    "decode_article",
    "decode_match",
    "decoder",
    "encode",
    "list_decoder",
    "read_article",
]

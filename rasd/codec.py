"""The JSON of the records that cross processes, read and written in one pass (msgspec).

The records themselves stay the pydantic models of :mod:`rasd.models` (and the stories'
:class:`~rasd.streams.stories.Candidate`); they define the wire format, and every other
consumer (console, notify, tests) reads it with pydantic. What the worker's and the backtest's
hot paths spent on pydantic was its JSON validation: an article took about 14-25 us to parse,
a candidate 25 us, an alert about as much to write. Here the same JSON is parsed by msgspec
into a typed mirror of the model (its Struct, derived from the model's fields, so there is no
second schema to keep in step) and handed over as the model without validating it again:

>>> article = decode_article(b'{"id":"a1","outlet":"o","feed":"f","lang":"en","title":"t"}')
>>> article.title, article.summary
('t', '')

**The same records accepted and rejected, with the same values.** The fast path takes only
what it can read exactly as pydantic does: JSON of the right types, no unknown field, and
datetimes in the ISO 8601 form pydantic itself writes (``2026-12-01T20:00:00.5+03:00``, zone
or none; ``Z``). Anything else (a date alone, a Unix time, a seventh digit of a second, which
msgspec rounds where pydantic truncates, a number for a string field, a missing field) is left
to pydantic, which then accepts it or raises its own ``ValidationError``, so dead-letter
reasons stay pydantic's. Defaults are what pydantic's would be (``fetched_at`` is the time of
decoding) and ``model_fields_set`` lists the fields the JSON had.
tests/unit/test_codec.py compares both on a table of edge cases and generated variants.

Writing: :func:`encode` is ``model.model_dump_json().encode()``, byte for byte, for every
record here (datetimes, enums, tuples and nested models come out as pydantic writes them).
"""

from __future__ import annotations

import types
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal, TypeVar, Union, get_args, get_origin

import annotated_types
import msgspec
from pydantic import BaseModel

from rasd.models import Alert, Article, Match

Model = TypeVar("Model", bound=BaseModel)

# Constraints of pydantic fields that the Structs enforce as msgspec does.
_CONSTRAINTS = {
    annotated_types.Ge: "ge",
    annotated_types.Gt: "gt",
    annotated_types.Le: "le",
    annotated_types.Lt: "lt",
}


class _NotFast(Exception):
    """The JSON is one that pydantic reads differently or not at all: let it decide."""


def _datetime_reader(optional: bool) -> Callable[[msgspec.Raw], datetime | None]:
    """Read a datetime field's raw JSON as pydantic does, or raise _NotFast.

    msgspec's RFC 3339 parser reads every datetime that it accepts as pydantic does (checked on
    46,800 forms, tests/unit/test_codec.py) but one: a fraction of a second with more than six
    digits, which it rounds and pydantic truncates. Its fields are fixed-width up to the
    seconds, so a seventh digit is at one place in the quoted text; an escape could move it.
    """
    parse = msgspec.json.Decoder(datetime | None if optional else datetime).decode

    def read(raw: msgspec.Raw) -> datetime | None:
        text = bytes(raw)
        if b"\\" in text or (text[20:21] == b"." and text[27:28].isdigit()):
            raise _NotFast
        return parse(text)

    return read


class _Codec:
    """A model's Struct (its JSON, parsed and type-checked by msgspec) and the way back."""

    def __init__(self, model: type[BaseModel]) -> None:
        if model.__pydantic_post_init__ or model.__private_attributes__:
            raise TypeError(f"{model.__name__}: the fast codec builds no private state")
        self.model = model
        fields = []
        # (name, convert or None, required, default, default factory)
        self.fields: list[tuple[str, Callable | None, bool, Any, Callable | None]] = []
        for name, info in model.model_fields.items():
            wire = _constrained(_wire_type(info.annotation), info.metadata, model, name)
            required = info.is_required()
            if required:
                fields.append((name, wire))
            else:
                fields.append((name, wire | msgspec.UnsetType, msgspec.UNSET))
            self.fields.append(
                (name, _converter(info.annotation), required, info.default, info.default_factory)
            )
        self.struct = msgspec.defstruct(
            f"{model.__name__}Wire", fields, kw_only=True, forbid_unknown_fields=True
        )
        self.required = frozenset(name for name, _, required, _, _ in self.fields if required)
        self.decoder = msgspec.json.Decoder(self.struct)

        self.build = self._compile()

    def _compile(self) -> Callable[[Any], BaseModel]:
        """``build(wire)``: the model of a decoded Struct, as pydantic's validation makes it.

        Generated for the model's fields: a loop over them cost more than msgspec's whole parse
        (a Match's terms are built for every match).
        """
        env: dict[str, Any] = {
            "UNSET": msgspec.UNSET,
            "Model": self.model,
            "new": self.model.__new__,
            "set_dict": object.__setattr__,
            # The slots of BaseModel, set as model_construct sets them (their descriptors are
            # cheaper to call than object.__setattr__).
            "set_fields_set": BaseModel.__dict__["__pydantic_fields_set__"].__set__,
            "set_extra": BaseModel.__dict__["__pydantic_extra__"].__set__,
            "set_private": BaseModel.__dict__["__pydantic_private__"].__set__,
            "REQUIRED": self.required,
        }
        lines = ["def build(w):", "    given = set(REQUIRED)"]
        values = []
        for name, convert, required, default, factory in self.fields:
            if convert is not None:
                env[f"convert_{name}"] = convert
            if required:
                value = f"convert_{name}(w.{name})" if convert is not None else f"w.{name}"
                values.append(f"{name!r}: {value}")
                continue
            env[f"default_{name}"] = factory if factory is not None else default
            lines += [
                f"    v_{name} = w.{name}",
                f"    if v_{name} is UNSET:",
                f"        v_{name} = default_{name}{'()' if factory is not None else ''}",
                "    else:",
                f"        given.add({name!r})",
            ]
            if convert is not None:
                lines.append(f"        v_{name} = convert_{name}(v_{name})")
            values.append(f"{name!r}: v_{name}")
        lines += [
            # What BaseModel.model_construct does, without its per-field alias and default work.
            "    built = new(Model)",
            f"    set_dict(built, '__dict__', {{{', '.join(values)}}})",
            "    set_fields_set(built, given)",
            "    set_extra(built, None)",
            "    set_private(built, None)",
            "    return built",
        ]
        exec("\n".join(lines), env)  # noqa: S102 - the source is made of the model's field names
        return env["build"]

    def decode(self, raw: bytes | str) -> BaseModel:
        try:
            return self.build(self.decoder.decode(raw))
        except (msgspec.DecodeError, _NotFast):
            return self.model.model_validate_json(raw)


def _wire_type(annotation: Any) -> Any:
    """The type msgspec checks for a field of ``annotation``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _codec(annotation).struct
    if annotation in (datetime, datetime | None):
        return msgspec.Raw  # read by _datetime_reader
    origin, args = get_origin(annotation), get_args(annotation)
    if origin in (Union, types.UnionType):
        return Union[tuple(_wire_type(a) for a in args)]  # noqa: UP007 - built from a tuple
    if origin in (tuple, list, dict):
        return origin[tuple(_wire_type(a) for a in args)]
    if origin is Literal or annotation in (Ellipsis, type(None), str, int, bool, float):
        return annotation
    if isinstance(annotation, type) and issubclass(annotation, str):
        return annotation  # a StrEnum
    raise TypeError(f"no fast codec for a field of type {annotation!r}")


def _constrained(wire: Any, metadata: list, model: type, name: str) -> Any:
    if not metadata:
        return wire
    meta = {}
    for item in metadata:
        key = _CONSTRAINTS.get(type(item))
        if key is None:
            raise TypeError(f"{model.__name__}.{name}: no fast codec for {item!r}")
        meta[key] = getattr(item, key)
    # pydantic applies a bound to the number, not to None.
    args = get_args(wire) if get_origin(wire) in (Union, types.UnionType) else (wire,)
    bounded = [a if a is type(None) else Annotated[a, msgspec.Meta(**meta)] for a in args]
    return Union[tuple(bounded)]  # noqa: UP007 - built from a tuple


def _converter(annotation: Any) -> Callable[[Any], Any] | None:
    """What turns a decoded field into the model's value (None: it already is)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return _codec(annotation).build
    if annotation in (datetime, datetime | None):
        return _datetime_reader(optional=annotation is not datetime)
    origin, args = get_origin(annotation), get_args(annotation)
    if origin in (Union, types.UnionType):
        converters = {a: _converter(a) for a in args if a is not type(None)}
        if len(converters) != 1:
            if any(converters.values()):
                raise TypeError(f"no fast codec for a union of {annotation!r}")
            return None
        (convert,) = converters.values()
        if convert is None:
            return None
        return lambda value: None if value is None else convert(value)
    if origin in (tuple, list):
        convert = _converter(args[0])
        if convert is None:
            return None
        if origin is list:
            return lambda values: [convert(v) for v in values]
        return lambda values: tuple([convert(v) for v in values])
    if origin is dict and _converter(args[1]) is not None:
        raise TypeError(f"no fast codec for {annotation!r}")
    return None


_codecs: dict[type, _Codec] = {}


def _codec(model: type[BaseModel]) -> _Codec:
    codec = _codecs.get(model)
    if codec is None:
        codec = _codecs[model] = _Codec(model)
    return codec


def decoder(model: type[Model]) -> Callable[[bytes | str], Model]:
    """``model.model_validate_json``, with the records pydantic reads alike parsed by msgspec.

    >>> decoder(Article)(b'{"id":"a1","outlet":"o","feed":"f","lang":"en","title":"t"}').id
    'a1'
    """
    return _codec(model).decode


def _fields(obj: Any) -> Any:
    if isinstance(obj, BaseModel):
        # A model's fields, in their order: what model_dump_json writes for the records here
        # (no aliases, no computed fields, no serializers of their own).
        return obj.__dict__
    raise NotImplementedError(f"cannot encode {type(obj).__name__}")


_encoder = msgspec.json.Encoder(enc_hook=_fields)


def encode(record: BaseModel, exclude: frozenset[str] = frozenset()) -> bytes:
    """``record.model_dump_json(exclude=exclude).encode()``, written by msgspec."""
    fields = record.__dict__
    if exclude:
        fields = {name: value for name, value in fields.items() if name not in exclude}
    return _encoder.encode(fields)


decode_article: Callable[[bytes | str], Article] = decoder(Article)
decode_match: Callable[[bytes | str], Match] = decoder(Match)
decode_alert: Callable[[bytes | str], Alert] = decoder(Alert)

__all__ = [
    "decode_alert",
    "decode_article",
    "decode_match",
    "decoder",
    "encode",
]

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

**Writing** is msgspec's encoder over the model's fields: the bytes of ``model_dump_json()``,
byte for byte, for every record here (no aliases, computed fields or serializers of their own;
datetimes, enums, tuples and nested models come out as pydantic writes them), at 2-5x less
(bench/codec.py). tests/unit/test_codec.py checks it on valid records and thousands of variants.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import msgspec
from pydantic import BaseModel

from rasd.models import Alert, Article, Match

Model = TypeVar("Model", bound=BaseModel)


def decoder(model: type[Model]) -> Callable[[bytes | str], Model]:
    """``model.model_validate_json``, without its Python wrapper.

    >>> decoder(Article)(b'{"id":"a1","outlet":"o","feed":"f","lang":"en","title":"t"}').id
    'a1'
    """
    return model.__pydantic_validator__.validate_json


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

__all__ = ["decode_alert", "decode_article", "decode_match", "decoder", "encode"]

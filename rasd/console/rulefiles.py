"""The rule files in ``settings.rules_dir`` as the editor sees them: read, check, save, history.

Saving checks the draft first (nothing invalid reaches the directory the workers load), writes
it atomically (temporary file in the same directory, then rename, so a worker never reads half
a file) and records who changed what in Redis (``<ns>:console:rules:history:<path>``).
"""

from __future__ import annotations

import difflib
import os
import tempfile
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath

from pydantic import BaseModel, ConfigDict
from redis.asyncio import Redis

from rasd.keys import RedisKeys
from rasd.notify.names import receiver_names, unknown_receivers
from rasd.rules import LoadResult, parse_rules
from rasd.rules.directory import duplicate_ids, is_rule_file_name, rule_file_names
from rasd.settings import Settings
from rasd.yamlerrors import ConfigInvalid

HISTORY_KEEP = 200
MAX_RULE_FILE_BYTES = 256 * 1024


class RulePathError(ValueError):
    """A path that is not a rule file inside the rules directory."""


class RuleFileInvalid(ValueError):
    def __init__(self, result: LoadResult) -> None:
        super().__init__("; ".join(str(e) for e in result.errors))
        self.result = result


class Change(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    path: str
    by: str
    at: datetime
    diff: str


class RuleFiles:
    def __init__(self, settings: Settings, redis: Redis) -> None:
        self.root = settings.rules_dir
        self._receivers_file = settings.receivers_file
        self._redis = redis
        self._keys = RedisKeys(settings)

    def names(self) -> list[str]:
        """Rule files, as paths relative to the rules directory."""
        return rule_file_names(self.root)

    def path(self, name: str) -> Path:
        """The file for ``name``; refuses anything outside the rules directory."""
        if not is_rule_file_name(name):
            raise RulePathError(f"not a rule file name: {name!r}")
        pure = PurePosixPath(name)
        path = self.root.joinpath(*pure.parts)
        # A symbolic link inside the directory must not lead the editor outside it.
        if not path.resolve().is_relative_to(self.root.resolve()):
            raise RulePathError(f"not a rule file name: {name!r}")
        return path

    def read(self, name: str) -> str | None:
        path = self.path(name)
        return path.read_text(encoding="utf-8") if path.is_file() else None

    def check(self, name: str, text: str) -> LoadResult:
        """The draft's rules and errors, including rule ids another file already defines
        (the workers would refuse the file) and ``notify:`` receivers receivers.yaml does not
        define (when it can be read: without it, names are not checked)."""
        self.path(name)
        result = parse_rules(text, name)
        try:
            names = receiver_names(self._receivers_file)
        except ConfigInvalid:
            names = None
        if names is not None:
            read = {name: text}.get
            result.errors.extend(unknown_receivers(result.rules, names, read=read))
        # The draft last: any id another file defines is the draft's error, whichever file
        # the workers would refuse.
        files = {}
        for other in self.names():
            if other != name:
                other_text = self.read(other) or ""
                files[other] = (other_text, parse_rules(other_text, other))
        files[name] = (text, result)
        result.errors.extend(duplicate_ids(files).get(name, {}).values())
        return result

    async def save(self, name: str, text: str, user: str) -> Change | None:
        """Write the file if the draft is valid; None when nothing changed."""
        if len(text.encode()) > MAX_RULE_FILE_BYTES:
            raise RulePathError(f"{name}: larger than {MAX_RULE_FILE_BYTES} bytes")
        result = self.check(name, text)
        if result.errors:
            raise RuleFileInvalid(result)
        old = self.read(name) or ""
        if old == text:
            return None
        path = self.path(name)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".", suffix=".tmp")
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        diff = "".join(
            difflib.unified_diff(
                old.splitlines(keepends=True),
                text.splitlines(keepends=True),
                fromfile=f"a/{name}",
                tofile=f"b/{name}",
            )
        )
        change = Change(path=name, by=user, at=datetime.now(UTC), diff=diff)
        key = self._keys.rule_history(name)
        async with self._redis.pipeline(transaction=True) as pipe:
            pipe.lpush(key, change.model_dump_json())
            pipe.ltrim(key, 0, HISTORY_KEEP - 1)
            await pipe.execute()
        return change

    async def history(self, name: str, limit: int = 50) -> list[Change]:
        self.path(name)
        raw = await self._redis.lrange(self._keys.rule_history(name), 0, limit - 1)
        return [Change.model_validate_json(r) for r in raw]

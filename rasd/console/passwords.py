"""Password hashes for console users: scrypt from the standard library, self-describing.

>>> h = hash_password("s3cret")
>>> h.startswith("scrypt$")
True
>>> verify_password("s3cret", h), verify_password("wrong", h)
(True, False)
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

# scrypt parameters (n=2**14, r=8, p=1: the interactive-login figures from the scrypt paper,
# about 16 MiB and a few tens of milliseconds per check).
_N, _R, _P = 2**14, 8, 1
_MAXMEM = 64 * 1024 * 1024


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).decode().rstrip("=")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def hash_password(password: str) -> str:
    """``scrypt$n$r$p$salt$hash``: the parameters travel with the hash so they can change."""
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, maxmem=_MAXMEM)
    return f"scrypt${_N}${_R}${_P}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    """True when ``password`` matches ``stored``; False (never an exception) for bad hashes."""
    try:
        scheme, n, r, p, salt, digest = stored.split("$")
        if scheme != "scrypt":
            return False
        expected = _unb64(digest)
        actual = hashlib.scrypt(
            password.encode(), salt=_unb64(salt), n=int(n), r=int(r), p=int(p), maxmem=_MAXMEM
        )
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(actual, expected)

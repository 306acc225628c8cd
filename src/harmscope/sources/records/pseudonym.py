"""Keyed pseudonyms for person identifiers: HMAC-SHA256, so raw ids are never stored.

A force's person id (a PNC or local nominal number) is replaced at import by
``HMAC-SHA256(key, id)``, shown as its first 32 hex digits (128 bits: collisions are
negligible for any force's nominal index). The same key gives the same pseudonym in every
file and every load, so records still join; without the key a pseudonym cannot be turned
back into the id, nor an id guessed from a list of candidates (what an unkeyed hash would
allow).

The key comes from the environment variable ``HARMSCOPE_PSEUDONYM_KEY`` or, failing that,
from a key file beside the warehouse (``<warehouse>.pseudonym-key``), created on first use
with 32 random bytes and permissions 0600 (owner read/write only). The key is never written
into the warehouse; only a short check value (:meth:`Pseudonymiser.check`) is, so a load
with a different key is refused instead of silently creating unlinkable pseudonyms.

References
----------
Krawczyk, H., Bellare, M. & Canetti, R. (1997). *HMAC: keyed-hashing for message
    authentication*. RFC 2104.
Information Commissioner's Office (2022). *Pseudonymisation* (draft anonymisation guidance,
    chapter 3): keyed hashing with the key held apart from the data.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
from pathlib import Path

KEY_ENV = "HARMSCOPE_PSEUDONYM_KEY"
KEY_SUFFIX = ".pseudonym-key"
PSEUDONYM_HEX = 32
"""Hex digits of the HMAC kept as the pseudonym (128 bits)."""


class Pseudonymiser:
    """Turns person ids into keyed pseudonyms (``P`` + 32 hex digits).

    Parameters
    ----------
    key : bytes
        The secret key (at least 16 bytes).
    """

    def __init__(self, key: bytes) -> None:
        if len(key) < 16:
            raise ValueError("the pseudonym key must be at least 16 bytes long")
        self._key = key
        self._cache: dict[str, str] = {}

    def __call__(self, raw: str) -> str:
        """The pseudonym of ``raw`` (the same for the same key and id)."""
        found = self._cache.get(raw)
        if found is None:
            digest = hmac.new(self._key, raw.encode("utf-8"), hashlib.sha256).hexdigest()
            found = self._cache[raw] = "P" + digest[:PSEUDONYM_HEX]
        return found

    def check(self) -> str:
        """A value that tells keys apart without revealing them (HMAC of a fixed text)."""
        return hmac.new(self._key, b"harmscope key check", hashlib.sha256).hexdigest()[:16]


def key_path(db: str | os.PathLike[str]) -> Path:
    """Where the key file of the warehouse ``db`` lives (beside it)."""
    p = Path(db)
    return p.with_name(p.name + KEY_SUFFIX)


def write_key(path: Path, key: str) -> None:
    """Write a new key file: never over another process's key (O_EXCL), mode 0600 from the
    start, so the key is never readable by others, not even for an instant."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key + "\n")


def load_key(db: str | os.PathLike[str], *, create: bool = True) -> bytes:
    """The pseudonym key for the warehouse ``db``.

    ``$HARMSCOPE_PSEUDONYM_KEY`` (UTF-8, at least 16 bytes) when set; otherwise the key file
    beside ``db``, created with 32 random bytes and mode 0600 when missing and ``create``.

    Raises
    ------
    ValueError
        The variable is too short, the key file is missing (``create=False``), readable by
        others, or holds too short a key.
    """
    env = os.environ.get(KEY_ENV)
    if env:
        key = env.encode("utf-8")
        if len(key) < 16:
            raise ValueError(f"${KEY_ENV} must be at least 16 bytes long")
        return key
    path = key_path(db)
    if not path.exists():
        if not create:
            raise ValueError(f"{path}: no pseudonym key file (and ${KEY_ENV} is not set)")
        write_key(path, secrets.token_hex(32))
    if os.name == "posix" and path.stat().st_mode & 0o077:
        raise ValueError(
            f"{path}: the pseudonym key file is readable by others "
            f"(mode {path.stat().st_mode & 0o777:o}); run `chmod 600 {path}`"
        )
    key = path.read_text(encoding="ascii").strip().encode("ascii")
    if len(key) < 16:
        raise ValueError(f"{path}: the pseudonym key is shorter than 16 bytes")
    return key

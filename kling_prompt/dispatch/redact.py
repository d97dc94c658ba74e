"""Keep the fal key out of every output: messages, logs, exception text and the ledger."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable

__all__ = ["MASK", "Redactor", "env_secrets"]

MASK = "***"
_MIN_SECRET = 4  # shorter "secrets" would mask ordinary words


def env_secrets() -> list[str]:
    """The fal credentials found in the environment, in every form fal-client sends them."""
    found = [os.environ.get(name, "") for name in ("FAL_KEY", "FAL_KEY_ID", "FAL_KEY_SECRET")]
    key_id, secret = os.environ.get("FAL_KEY_ID"), os.environ.get("FAL_KEY_SECRET")
    if key_id and secret:
        found.append(f"{key_id}:{secret}")
    return [s for s in found if s]


class Redactor:
    """Replaces known secrets (and the parts of an ``id:secret`` key) with ``***``."""

    def __init__(self, secrets: Iterable[str | None] = ()) -> None:
        self._secrets: set[str] = set()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        if not secret:
            return
        secret = secret.strip()
        for part in (secret, *secret.split(":")):
            if len(part) >= _MIN_SECRET:
                self._secrets.add(part)

    def __call__(self, text: str) -> str:
        # Longest first, so a full key is masked before the parts inside it.
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def __bool__(self) -> bool:
        return bool(self._secrets)

    def filter(self) -> logging.Filter:
        """A logging filter that masks secrets in records passing through a logger."""
        return _RedactingFilter(self)


class _RedactingFilter(logging.Filter):
    def __init__(self, redactor: Redactor) -> None:
        super().__init__()
        self._redactor = redactor

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        clean = self._redactor(message)
        if clean != message:
            record.msg, record.args = clean, None
        return True

"""Credentials for HTTP sources: a bearer token or basic auth, from the environment or a file.

Secrets are read when a request is about to be made (so a rotated token file is picked
up) and are never put in error messages.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


class CredentialsError(Exception):
    """A configured credential cannot be read; the message names where, never the value."""


@dataclass(frozen=True, slots=True)
class Credentials:
    """Where a source's credentials come from (all optional).

    ``token_env``: name of an environment variable holding a bearer token;
    ``token_file``: a file holding one (surrounding whitespace ignored);
    ``basic_auth_env``: name of an environment variable holding ``user:password``.
    """

    token_env: str | None = None
    token_file: str | None = None
    basic_auth_env: str | None = None

    def bearer_token(self) -> str | None:
        """The bearer token, or None when none is configured."""
        if self.token_env:
            value = os.environ.get(self.token_env)
            if not value:
                raise CredentialsError(f"environment variable {self.token_env} is not set")
            return value.strip()
        if self.token_file:
            try:
                value = Path(self.token_file).read_text(encoding="utf-8").strip()
            except OSError as exc:
                raise CredentialsError(
                    f"cannot read token file {self.token_file}: {exc.strerror or exc}"
                ) from None
            if not value:
                raise CredentialsError(f"token file {self.token_file} is empty")
            return value
        return None

    def basic_auth(self) -> tuple[str, str] | None:
        """``(user, password)``, or None when basic auth is not configured."""
        if not self.basic_auth_env:
            return None
        value = os.environ.get(self.basic_auth_env)
        if not value or ":" not in value:
            raise CredentialsError(
                f"environment variable {self.basic_auth_env} must hold user:password"
            )
        user, _, password = value.partition(":")
        return user, password

    def headers(self) -> dict[str, str]:
        """HTTP headers carrying the bearer token (empty without one)."""
        token = self.bearer_token()
        return {"Authorization": f"Bearer {token}"} if token else {}

"""The server key: encrypting secrets at rest (Fernet) and keyed digests (HMAC-SHA256)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import secrets
from functools import cached_property
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken


class SecretBox:
    """Derives separate keys for encryption and for signing from one configured secret."""

    def __init__(self, key_material: str) -> None:
        self._material = key_material.encode()

    def _derive(self, purpose: bytes) -> bytes:
        return hashlib.sha256(purpose + b"\0" + self._material).digest()

    @cached_property
    def _fernet(self) -> Fernet:
        return Fernet(base64.urlsafe_b64encode(self._derive(b"encrypt")))

    def encrypt(self, plaintext: str) -> str:
        return self._fernet.encrypt(plaintext.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken as exc:
            raise ValueError("cannot decrypt: wrong server key?") from exc

    def sign(self, value: str) -> str:
        return hmac.new(self._derive(b"sign"), value.encode(), hashlib.sha256).hexdigest()


def load_key(configured: str | None, data_dir: Path) -> str:
    """The configured key, or one generated once into ``data_dir/secret.key`` (mode 0600)."""
    if configured:
        return configured
    path = data_dir / "secret.key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    key = secrets.token_urlsafe(48)
    draft = data_dir / f".secret.key.{os.getpid()}"
    fd = os.open(draft, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, key.encode())
    finally:
        os.close(fd)
    try:
        os.link(draft, path)  # atomic: the file appears complete, or not at all
    except FileExistsError:  # another worker won the race
        key = path.read_text().strip()
    finally:
        draft.unlink()
    return key

"""Key-safe codes are encrypted at rest with Fernet (AES-128-CBC + HMAC-SHA256)."""
from __future__ import annotations

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from dispatch.settings import Settings


class KeysafeCipher:
    def __init__(self, settings: Settings) -> None:
        keys = [settings.keysafe_key, *settings.keysafe_previous_keys]
        self._fernet = MultiFernet([Fernet(k.encode()) for k in keys])

    def encrypt(self, code: str) -> str:
        return self._fernet.encrypt(code.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise ValueError("key-safe code cannot be decrypted with the configured keys") from None

    def rotate(self, token: str) -> str:
        """Re-encrypt under the primary key (for key rotation)."""
        return self._fernet.rotate(token.encode()).decode()

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


def rotate_all(session, cipher: KeysafeCipher) -> int:
    """Re-encrypt every stored key-safe code under the primary key (after NIGHTCARE_KEYSAFE_KEY changed and the
    old key moved to NIGHTCARE_KEYSAFE_PREVIOUS_KEYS); afterwards the old key can be dropped. Returns the count."""
    from sqlmodel import col, select

    from dispatch.clients.models import Client

    count = 0
    for client in session.exec(select(Client).where(col(Client.keysafe_code_encrypted).is_not(None))):
        client.keysafe_code_encrypted = cipher.rotate(client.keysafe_code_encrypted)
        session.add(client)
        count += 1
    return count

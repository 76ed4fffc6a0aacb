"""Encryption at rest of ID numbers and bank accounts, and the keyed digest that keeps ID numbers unique and
searchable without storing them in the clear. The cryptography is the `cryptography` package's Fernet
(AES-128-CBC + HMAC-SHA256, authenticated) and the standard library's HMAC; nothing here is hand-made.

Keys come from the environment: FIELD_ENCRYPTION_KEYS (one or more Fernet keys, comma-separated; the first
encrypts, all decrypt, so a key can be rotated) and ID_HASH_KEY (the HMAC key of the digest).
"""

import hashlib
import hmac
from functools import lru_cache

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings

# Every Fernet token starts so (version byte 0x80, base64): not a secret.
TOKEN_PREFIX = "gAAAAA"  # noqa: S105  # nosec B105


@lru_cache(maxsize=1)
def _fernet():
    return MultiFernet(
        [Fernet(key.encode() if isinstance(key, str) else key) for key in settings.FIELD_ENCRYPTION_KEYS]
    )


def encrypt(text: str) -> str:
    return _fernet().encrypt(text.encode("utf-8")).decode("ascii")


def decrypt(token: str) -> str:
    if not token.startswith(TOKEN_PREFIX):
        return token  # a value written before encryption was switched on (migrated on the next save)
    try:
        return _fernet().decrypt(token.encode("ascii")).decode("utf-8")
    except InvalidToken:
        raise ValueError("无法解密：加密密钥（FIELD_ENCRYPTION_KEYS）与数据不符。") from None


def encrypt_bytes(data: bytes) -> bytes:
    return _fernet().encrypt(bytes(data))


def decrypt_bytes(token: bytes) -> bytes:
    token = bytes(token)
    if not token.startswith(TOKEN_PREFIX.encode("ascii")):
        return token  # stored before encryption was switched on
    try:
        return _fernet().decrypt(token)
    except InvalidToken:
        raise ValueError("无法解密：加密密钥（FIELD_ENCRYPTION_KEYS）与数据不符。") from None


def digest(value: str) -> str:
    """Keyed digest of a normalised ID number: equal numbers, equal digests; the number cannot be recovered."""
    key = settings.ID_HASH_KEY.encode("utf-8")
    return hmac.new(key, value.strip().upper().encode("utf-8"), hashlib.sha256).hexdigest()


def reset_keys():
    """For tests that change the keys."""
    _fernet.cache_clear()

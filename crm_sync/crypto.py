"""Credential encryption at rest with Fernet, keyed by settings.FIELD_ENCRYPTION_KEY."""

import json

from cryptography.fernet import Fernet
from django.conf import settings


def _fernet() -> Fernet:
    return Fernet(settings.FIELD_ENCRYPTION_KEY.encode())


def credentials_encrypt(*, credentials: dict) -> str:
    return _fernet().encrypt(json.dumps(credentials).encode()).decode()


def credentials_decrypt(*, token: str) -> dict:
    if not token:
        return {}
    return json.loads(_fernet().decrypt(token.encode()))

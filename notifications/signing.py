"""Standard Webhooks (standardwebhooks.com) messages: the body and the signed headers.

Signing uses the specification's own library, so what we send is what its verifiers accept.
"""

import base64
import json
import secrets
from datetime import datetime

from standardwebhooks import Webhook

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32


def secret_generate() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def secret_problem(secret) -> str | None:
    """What is wrong with a secret a client supplies, or None."""
    if not isinstance(secret, str) or not secret.startswith(SECRET_PREFIX):
        return f"must start with {SECRET_PREFIX}"
    try:
        raw = base64.b64decode(secret[len(SECRET_PREFIX) :], validate=True)
    except ValueError:
        return f"must be {SECRET_PREFIX} followed by base64"
    if not 24 <= len(raw) <= 64:
        return "must hold 24 to 64 bytes of key"
    return None


def message_body(*, event_type: str, occurred_at: datetime, data: dict) -> str:
    return json.dumps(
        {
            "type": event_type,
            "timestamp": occurred_at.isoformat().replace("+00:00", "Z"),
            "data": data,
        },
        separators=(",", ":"),
        default=str,
    )


def signer(secret: str) -> Webhook:
    return Webhook(secret)


def message_headers(*, signer: Webhook, message_id: str, sent_at: datetime, body: str) -> dict:
    """Signed for this attempt: the timestamp is the attempt's (verifiers refuse old ones), the
    id is the message's (the same on every retry)."""
    signature = signer.sign(msg_id=message_id, timestamp=sent_at, data=body)
    return {
        "content-type": "application/json",
        "user-agent": "revorg-webhooks/1",
        "webhook-id": message_id,
        "webhook-timestamp": str(int(sent_at.timestamp())),
        "webhook-signature": signature,
    }

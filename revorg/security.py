"""Guards that apply where revorg serves or works, not to every management command."""

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


def require_production_secret() -> None:
    """WSGI and Celery workers refuse to start with the development SECRET_KEY unless DEBUG."""
    from revorg.settings import DEV_SECRET_KEY

    if not settings.DEBUG and settings.SECRET_KEY == DEV_SECRET_KEY:
        raise ImproperlyConfigured(
            "SECRET_KEY is the development default while DEBUG is off: set SECRET_KEY "
            "(or DEBUG=1 for local development)."
        )


def client_ip(request) -> str:
    """The address a login attempt comes from, for per-IP lockout. Behind TRUSTED_PROXY_COUNT
    proxies it is the address the outermost trusted proxy saw (X-Forwarded-For counted from
    the right, so a client cannot forge it); with none, the socket's peer."""
    count = settings.TRUSTED_PROXY_COUNT
    if count > 0:
        forwarded = [
            part.strip()
            for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")
            if part.strip()
        ]
        if len(forwarded) >= count:
            return forwarded[-count]
    return request.META.get("REMOTE_ADDR", "")

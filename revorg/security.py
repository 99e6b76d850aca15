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

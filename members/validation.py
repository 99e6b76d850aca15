"""Input rules for member data that both the API and the CRM import apply."""

import zoneinfo
from functools import cache

METADATA_MAX_KEYS = 100
METADATA_MAX_KEY_LENGTH = 100
METADATA_MAX_LIST = 200
METADATA_MAX_STRING = 1000


@cache
def known_timezones() -> frozenset[str]:
    return frozenset(zoneinfo.available_timezones())


def timezone_errors(value) -> list[str]:
    if not isinstance(value, str) or value not in known_timezones():
        return [f"unknown time zone '{value}'; use an IANA name such as 'Europe/Paris'"]
    return []


def _scalar_error(value, where: str) -> str | None:
    if value is None or isinstance(value, bool | int | float):
        return None
    if isinstance(value, str):
        return None if len(value) <= METADATA_MAX_STRING else f"{where}: string too long"
    return f"{where}: must be a string, number, boolean or null"


def metadata_errors(value) -> list[str]:
    """Metadata is a flat object: values are scalars or lists of scalars (e.g. languages)."""
    if not isinstance(value, dict):
        return ['must be a JSON object, e.g. {"languages": ["en", "fr"]}']
    if len(value) > METADATA_MAX_KEYS:
        return [f"at most {METADATA_MAX_KEYS} keys"]
    errors = []
    for key, item in value.items():
        if not key or len(key) > METADATA_MAX_KEY_LENGTH:
            errors.append(f"key '{key[:20]}': must be 1 to {METADATA_MAX_KEY_LENGTH} characters")
        elif isinstance(item, list):
            if len(item) > METADATA_MAX_LIST:
                errors.append(f"{key}: at most {METADATA_MAX_LIST} items")
            errors.extend(
                error
                for index, element in enumerate(item)
                if (error := _scalar_error(element, f"{key}[{index}]"))
            )
        elif error := _scalar_error(item, key):
            errors.append(error)
    return errors

"""One way to read numbers and ids out of query strings and form fields.

`str.isdigit()` accepts "²" and "٣", which int() then refuses (a 500), and a 25-digit id
overflows the database's bigint. These helpers accept ASCII digits only, check the range,
and raise BadParameter: a 400 naming the field, shown as the error page in the UI (see
revorg.middleware.RequestParametersMiddleware) and as `{"field": ["message"]}` in the API.
"""

import re

from .errors import ApplicationError

MAX_ID = 2**63 - 1  # Postgres bigint, the type of every primary key
_INTEGER = re.compile(r"-?[0-9]+")


class BadParameter(ApplicationError):
    """A query-string or form value that cannot be what the field needs."""


def _label(field: str) -> str:
    return field.replace("_", " ").capitalize()


def _blank(value) -> bool:
    return value is None or str(value).strip() == ""


def parse_int(
    value, *, field: str, minimum: int | None = None, maximum: int | None = None, default=None
):
    """The whole number in `value`, or `default` when it is blank."""
    if _blank(value):
        return default
    text = str(value).strip()
    if len(text) > 25 or not _INTEGER.fullmatch(text):
        raise BadParameter(f"{_label(field)} must be a whole number.", field=field)
    number = int(text)
    if minimum is not None and number < minimum:
        raise BadParameter(f"{_label(field)} must be at least {minimum}.", field=field)
    if maximum is not None and number > maximum:
        raise BadParameter(f"{_label(field)} must be at most {maximum}.", field=field)
    return number


def parse_id(value, *, field: str, default=None):
    """A primary key: a whole number from 1 to the largest bigint, or `default` when blank."""
    if _blank(value):
        return default
    text = str(value).strip()
    if len(text) > 25 or not _INTEGER.fullmatch(text) or not 1 <= int(text) <= MAX_ID:
        raise BadParameter(f"{_label(field)} must be the id of an existing item.", field=field)
    return int(text)


def nul_field(params) -> str | None:
    """The first field of a QueryDict whose name or value holds a NUL character: Postgres
    refuses NUL in text, so such a value can never be stored or searched for."""
    for key, values in params.lists():
        if "\x00" in key or any("\x00" in value for value in values):
            return key.replace("\x00", "\\x00")
    return None

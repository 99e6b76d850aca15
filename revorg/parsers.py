"""JSON bodies with a bound on nesting, and answers that are JSON whatever the Accept header.

Python's json module recurses once per nesting level: a body nested ~1,000 deep raised
RecursionError (a 500) before any of our validation ran. Every JSON body is read here, so the
bound lives in one place: DRF's default parser uses it, and so can any view reading JSON.
"""

import json
import re

from django.conf import settings
from rest_framework.exceptions import NotAcceptable, ParseError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.parsers import JSONParser
from rest_framework.utils.json import strict_constant

# Far above what any resource needs (a territory rule at its own limit of 10 levels is ~25
# deep in the body) and far below what the decoder's recursion can take.
MAX_JSON_DEPTH = 64

# A string literal (skipped whole, so brackets inside it do not count) or one bracket.
_STRING_OR_BRACKET = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]')


class JsonTooDeepError(ValueError):
    pass


def json_depth_check(text: str, max_depth: int = MAX_JSON_DEPTH) -> None:
    """Raises JsonTooDeepError when arrays/objects nest deeper than max_depth, without
    recursing. Bodies with fewer brackets than the bound cannot exceed it and skip the scan."""
    if text.count("[") + text.count("{") <= max_depth:
        return
    depth = 0
    for match in _STRING_OR_BRACKET.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > max_depth:
                raise JsonTooDeepError(
                    f"JSON nested deeper than {max_depth} levels; flatten the body."
                )
        elif token in "]}":
            depth -= 1


def json_loads_bounded(text: str, *, strict: bool = True, max_depth: int = MAX_JSON_DEPTH):
    """json.loads that refuses deep nesting with a ValueError instead of a RecursionError."""
    json_depth_check(text, max_depth)
    try:
        return json.loads(text, parse_constant=strict_constant if strict else None)
    except RecursionError as exc:  # defence in depth: a lower recursion limit than expected
        raise JsonTooDeepError("JSON nested too deeply; flatten the body.") from exc


class BoundedJSONParser(JSONParser):
    """DRF's JSON parser with the nesting bound: too deep is a 400 `{"detail": ...}`."""

    def parse(self, stream, media_type=None, parser_context=None):
        encoding = (parser_context or {}).get("encoding", settings.DEFAULT_CHARSET)
        try:
            text = stream.read().decode(encoding)
        except UnicodeDecodeError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc
        try:
            return json_loads_bounded(text, strict=self.strict)
        except JsonTooDeepError as exc:
            raise ParseError(str(exc)) from exc
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from exc


class JsonOnlyNegotiation(DefaultContentNegotiation):
    """An Accept header no renderer matches gets the view's first renderer (JSON for every API
    view) instead of a 406: an odd Accept must neither fail after a write (the browsable
    renderer did, so clients retried and allocated twice) nor be refused. Views with several
    renderers (the schema: YAML or JSON) still honour Accept and `?format=`."""

    def select_renderer(self, request, renderers, format_suffix=None):
        try:
            return super().select_renderer(request, renderers, format_suffix)
        except NotAcceptable:
            wanted = format_suffix or request.query_params.get(self.settings.URL_FORMAT_OVERRIDE)
            fallback = next((r for r in renderers if wanted and r.format == wanted), renderers[0])
            return fallback, fallback.media_type

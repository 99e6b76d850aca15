"""Reading a record an admin pastes into "Test a record": a JSON object, or one field a line.

Every line that cannot be read is reported with its number and text; nothing is skipped
silently, because a dropped `language: fr` would change the decision being explained.
"""

import json
from dataclasses import dataclass, field

from . import rules

MAX_TEXT = 64 * 1024


@dataclass
class LineError:
    line: int | None  # 1-based; None for an error about the record as a whole
    text: str
    message: str


@dataclass
class ParsedRecord:
    fields: dict = field(default_factory=dict)
    record_type: str | None = None  # from a pasted JSON record's "type", if it has one
    errors: list[LineError] = field(default_factory=list)


def record_text_parse(text: str) -> ParsedRecord:
    """`{"country": "FR"}`, `{"type": "lead", "fields": {...}}`, `{"record": {...}}`, or
    lines of `key: value` / `key=value` (blank lines and `#` comments are ignored). Values
    read as JSON when they are JSON (`250`, `true`, `["en", "fr"]`), `[a, b]` as a list of
    words, anything else as text."""
    text = text or ""
    if len(text) > MAX_TEXT:
        return ParsedRecord(errors=[LineError(None, "", f"more than {MAX_TEXT} characters")])
    parsed = _json_record(text) if text.lstrip().startswith("{") else _lines_record(text)
    if not parsed.errors:
        parsed.errors = [
            LineError(None, error["path"], error["message"])
            for error in rules.record_fields_errors(parsed.fields, "field")
        ]
    if not parsed.errors and not parsed.fields:
        parsed.errors = [LineError(None, "", "no fields: paste at least one key: value line")]
    return parsed


def _json_record(text: str) -> ParsedRecord:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        lines = text.splitlines() or [""]
        line = lines[min(exc.lineno, len(lines)) - 1]
        return ParsedRecord(errors=[LineError(exc.lineno, line, f"invalid JSON: {exc.msg}")])
    if not isinstance(data, dict):
        return ParsedRecord(errors=[LineError(1, text.strip()[:200], "must be a JSON object")])
    record = data.get("record") if isinstance(data.get("record"), dict) else data
    if isinstance(record.get("fields"), dict):
        record_type = record.get("type")
        if not isinstance(record_type, str):
            record_type = None
        return ParsedRecord(fields=record["fields"], record_type=record_type)
    return ParsedRecord(fields=record)


def _lines_record(text: str) -> ParsedRecord:
    parsed = ParsedRecord()
    first_line: dict[str, int] = {}
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        cuts = [i for i in (line.find("="), line.find(":")) if i >= 0]
        cut = min(cuts) if cuts else -1
        key = line[:cut].strip() if cut > 0 else ""
        if not key:
            parsed.errors.append(LineError(number, raw, "expected key: value or key=value"))
            continue
        if key in first_line:
            parsed.errors.append(
                LineError(number, raw, f"'{key}' is already given on line {first_line[key]}")
            )
            continue
        first_line[key] = number
        parsed.fields[key] = _value(line[cut + 1 :].strip())
    return parsed


def _value(text: str):
    try:
        value = json.loads(text)
    except ValueError:
        if text.startswith("[") and text.endswith("]"):
            return [item.strip() for item in text[1:-1].split(",") if item.strip()]
        return text
    return value if not isinstance(value, dict) else text

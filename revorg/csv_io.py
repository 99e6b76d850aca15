"""CSV in and out: the csv module behind one small service that every app's `csv_io` uses.

In: an upload is read whole (bounded in bytes and rows), every row keeps its line number, and
problems are collected as `{line, column, message}` so that a file is checked completely
before anything is written (all or nothing per file). Out: rows are written through a
writer that neutralises spreadsheet formulas (CSV injection) and can stream, so a large
export is produced row by row in constant memory.
"""

import csv
import io
import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from django.conf import settings
from django.db import connection, transaction
from django.http import StreamingHttpResponse

from .errors import ApplicationError, PayloadTooLargeError

# A cell starting with one of these is a formula to Excel, LibreOffice and Google Sheets.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
TRUE_WORDS = frozenset({"true", "1", "yes", "y", "t"})
FALSE_WORDS = frozenset({"false", "0", "no", "n", "f"})
LIST_SEPARATOR = ";"


def max_import_bytes() -> int:
    return settings.CSV_IMPORT_MAX_BYTES


def max_import_rows() -> int:
    return settings.CSV_IMPORT_MAX_ROWS


@dataclass(frozen=True)
class RowError:
    """One problem of an upload; line 1 is the header, `column` None for the whole row."""

    line: int
    column: str | None
    message: str

    def as_dict(self) -> dict:
        return {"line": self.line, "column": self.column, "message": self.message}


@dataclass(frozen=True)
class CsvRow:
    line: int
    values: dict[str, str]

    def get(self, column: str) -> str:
        return self.values.get(column, "")

    def has(self, column: str) -> bool:
        return column in self.values


@dataclass
class CsvTable:
    header: list[str]
    rows: list[CsvRow]
    errors: list[RowError] = field(default_factory=list)


@dataclass(frozen=True)
class ImportChange:
    """What a row does: `create` or `update` of the object named `key`."""

    line: int
    action: str
    key: str
    detail: str = ""

    def as_dict(self) -> dict:
        return {"line": self.line, "action": self.action, "key": self.key, "detail": self.detail}


@dataclass
class ImportResult:
    """The preview of an import, and once applied its outcome (`applied`)."""

    changes: list[ImportChange] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    applied: bool = False

    @property
    def created(self) -> int:
        return sum(1 for change in self.changes if change.action == "create")

    @property
    def updated(self) -> int:
        return sum(1 for change in self.changes if change.action == "update")

    def as_dict(self) -> dict:
        return {
            "dry_run": not self.applied,
            "created": self.created,
            "updated": self.updated,
            "rows": [change.as_dict() for change in self.changes],
            "errors": [error.as_dict() for error in self.errors],
        }


class ImportRefused(ApplicationError):
    """A file with at least one bad row: nothing was written; the body lists every problem."""

    def __init__(self, errors: list[RowError]):
        lines = len({error.line for error in errors})
        super().__init__(
            f"{lines} line{'s' if lines != 1 else ''} of the file with errors; nothing imported",
            field="file",
            extra={"errors": [error.as_dict() for error in errors]},
        )
        self.errors = errors


# Advisory-lock namespaces (the two-int key space, apart from the allocation path's bigint keys).
IMPORT_LOCK_NAMESPACES = {"members": 7301, "quotas": 7302}


def import_lock(*, scope: str, workspace_id: int) -> None:
    """Serialises the imports of one kind in one workspace until the transaction ends: two
    uploads of one file then give one set of rows (the second sees the first's as updates)."""
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("import_lock needs a transaction (transaction.atomic)")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_advisory_xact_lock(%s, %s)",
                [IMPORT_LOCK_NAMESPACES[scope], workspace_id % 2**31],
            )


def csv_read(
    *,
    raw: bytes,
    columns: Iterable[str],
    required: Iterable[str] = (),
    max_bytes: int | None = None,
    max_rows: int | None = None,
) -> CsvTable:
    """Parses an upload into rows keyed by the (lower-cased) header. A file too large is a 413;
    one that is not CSV text at all a 400 naming `file`; unknown or missing columns and
    malformed rows are row errors (line 1 is the header)."""
    max_bytes = max_bytes or max_import_bytes()
    max_rows = max_rows or max_import_rows()
    if len(raw) > max_bytes:
        raise PayloadTooLargeError(
            f"the file is {len(raw)} bytes; the limit is {max_bytes} bytes", field="file"
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ApplicationError("the file is not UTF-8 text", field="file") from None
    if "\x00" in text:
        raise ApplicationError("the file contains NUL characters: it is not CSV", field="file")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        header_cells = next(reader, None)
    except csv.Error as exc:
        raise ApplicationError(f"the header row is not valid CSV: {exc}", field="file") from None
    if not header_cells or not any(cell.strip() for cell in header_cells):
        raise ApplicationError("the file is empty: the first line names the columns", field="file")
    header = [cell.strip().lower() for cell in header_cells]
    known = set(columns)
    table = CsvTable(header=header, rows=[])
    for name in header:
        if name not in known:
            table.errors.append(
                RowError(1, name, f"unknown column; the columns are {', '.join(columns)}")
            )
    if len(set(header)) != len(header):
        table.errors.append(RowError(1, None, "a column is named twice"))
    for name in required:
        if name not in header:
            table.errors.append(RowError(1, name, "this column is required"))
    line = 2
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            table.errors.append(RowError(line, None, f"not valid CSV: {exc}"))
            break
        if cells and any(cell.strip() for cell in cells):
            if len(table.rows) >= max_rows:
                raise ApplicationError(
                    f"the file has more than {max_rows} rows; split it into smaller files",
                    field="file",
                )
            if len(cells) != len(header):
                table.errors.append(
                    RowError(line, None, f"{len(cells)} values for {len(header)} columns")
                )
            else:
                pairs = zip(header, cells, strict=True)
                values = {name: csv_unescape(cell.strip()) for name, cell in pairs}
                table.rows.append(CsvRow(line=line, values=values))
        line = reader.line_num + 1
    if not table.rows and not table.errors:
        table.errors.append(RowError(2, None, "the file has a header but no rows"))
    return table


def csv_unescape(cell: str) -> str:
    """Undoes `csv_safe`'s quote before a formula character, so an export imports unchanged."""
    if cell.startswith("'") and cell[1:2] and cell[1] in FORMULA_TRIGGERS:
        return cell[1:]
    return cell


def csv_bool(value: str) -> bool | None:
    """true/false, yes/no, 1/0 (any case); None when it is none of them."""
    word = value.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    return None


def csv_list(value: str) -> list[str]:
    """A `;`-separated cell as its non-empty items."""
    return [item.strip() for item in value.split(LIST_SEPARATOR) if item.strip()]


def csv_safe(value) -> str | int | float:
    """A cell a spreadsheet shows as text: lists and objects as JSON, booleans as true/false,
    and text that would start a formula prefixed with a quote (OWASP's CSV-injection advice)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return value
    if isinstance(value, dict | list):
        value = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    text = str(value)
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


class _Echo:
    """A file-like object whose write returns the line: csv.writer then yields strings."""

    def write(self, value: str) -> str:
        return value


def csv_lines(header: list[str], rows: Iterable[Iterable]) -> Iterator[str]:
    """The header and every row as CSV text, one line at a time (nothing accumulates)."""
    writer = csv.writer(_Echo())
    yield writer.writerow(header)
    for row in rows:
        yield writer.writerow([csv_safe(value) for value in row])


def csv_response(*, filename: str, header: list[str], rows: Iterable[Iterable]):
    """A streamed `text/csv` attachment: rows are read and sent as the client downloads."""
    response = StreamingHttpResponse(
        (line.encode() for line in csv_lines(header, rows)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response

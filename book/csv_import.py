"""Reading book CSV uploads: the csv module behind one small service. Rows come out with
their line number; each value is checked here, so a bad row is reported with its line and
column and skipped whole, never half-written."""

import csv
import io
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation

from revorg.errors import ApplicationError

ACCOUNT_ID_COLUMNS = ("crm_id", "id")
ACCOUNT_BASE_COLUMNS = {"crm_id", "id", "name", "domain", "owner_email", "crm_owner_id"}
NUMERIC_FIELDS = {"employees", "annual_revenue"}
OPPORTUNITY_COLUMNS = (
    "crm_id",
    "account_crm_id",
    "name",
    "owner_email",
    "stage",
    "probability",
    "amount",
    "close_date",
    "is_closed",
    "is_won",
    "created_date",
)
OPPORTUNITY_REQUIRED = ("crm_id", "account_crm_id")
MAX_TEXT = 255
TRUE_WORDS = {"true", "1", "yes", "y", "t"}
FALSE_WORDS = {"false", "0", "no", "n", "f", ""}


class RowError(Exception):
    def __init__(self, column: str | None, message: str):
        super().__init__(message)
        self.column = column
        self.message = message


@dataclass(frozen=True)
class CsvRow:
    line: int
    values: dict[str, str]


def csv_decode(raw: bytes, *, max_bytes: int) -> str:
    """The upload as text; 413 when too large, 400 naming `file` when not UTF-8 CSV."""
    from revorg.errors import PayloadTooLargeError

    if len(raw) > max_bytes:
        raise PayloadTooLargeError(f"the file is {len(raw)} bytes; the limit is {max_bytes} bytes")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ApplicationError("the file is not UTF-8 text", field="file") from None


def csv_header(text: str) -> list[str]:
    try:
        header = next(csv.reader(io.StringIO(text)), None)
    except csv.Error as exc:
        raise ApplicationError(f"the header row is not valid CSV: {exc}", field="file") from None
    if not header:
        raise ApplicationError("the file is empty: a header row is required", field="file")
    names = [name.strip().lower() for name in header]
    if len(set(names)) != len(names):
        raise ApplicationError("the header names a column twice", field="file")
    return names


def csv_require_columns(header: list[str], *, kind: str) -> None:
    if kind == "accounts":
        if not any(name in header for name in ACCOUNT_ID_COLUMNS):
            raise ApplicationError("the header needs a crm_id (or id) column", field="file")
        return
    missing = [name for name in OPPORTUNITY_REQUIRED if name not in header]
    if missing:
        raise ApplicationError(f"the header lacks column(s): {', '.join(missing)}", field="file")


def csv_rows(text: str) -> tuple[list[str], list[CsvRow], list[dict]]:
    """Header, data rows (line = the row's first physical line; the header is line 1) and
    the errors of rows the csv module itself refuses."""
    header = csv_header(text)
    reader = csv.reader(io.StringIO(text))
    next(reader)
    rows, errors = [], []
    line = reader.line_num + 1
    while True:
        try:
            values = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:
            errors.append({"line": line, "column": None, "message": f"not valid CSV: {exc}"})
            line = reader.line_num + 1
            continue
        if values and any(v.strip() for v in values):
            if len(values) != len(header):
                errors.append(
                    {
                        "line": line,
                        "column": None,
                        "message": f"{len(values)} values for {len(header)} columns",
                    }
                )
            else:
                rows.append(
                    CsvRow(line, {h: v.strip() for h, v in zip(header, values, strict=True)})
                )
        line = reader.line_num + 1
    return header, rows, errors


def _text(values, column, *, required=False) -> str:
    value = values.get(column, "")
    if required and not value:
        raise RowError(column, "required")
    if len(value) > MAX_TEXT:
        raise RowError(column, f"longer than {MAX_TEXT} characters")
    return value


def _number(value: str, column: str):
    try:
        number = Decimal(value.replace(",", "")) if value else None
    except InvalidOperation:
        raise RowError(column, f"{value!r} is not a number") from None
    if number is None:
        return None
    if not number.is_finite():
        raise RowError(column, f"{value!r} is not a number")
    return int(number) if number == number.to_integral_value() else float(number)


def _date(value: str, column: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise RowError(column, f"{value!r} is not a date (YYYY-MM-DD)") from None


def _bool(value: str, column: str) -> bool:
    word = value.lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise RowError(column, f"{value!r} is not true or false")


def account_row_parse(values: dict[str, str], *, members_by_email: dict[str, int]) -> dict:
    """One account row as the columns of the book: or RowError naming the column."""
    id_column = "crm_id" if values.get("crm_id") else "id"
    crm_id = _text(values, id_column, required=True)
    owner_email = values.get("owner_email", "").lower()
    owner_id = None
    if owner_email:
        owner_id = members_by_email.get(owner_email)
        if owner_id is None:
            raise RowError("owner_email", f"no member has the email {owner_email}")
    fields = {}
    for column, value in values.items():
        if column in ACCOUNT_BASE_COLUMNS or not value:
            continue
        if len(value) > 1000:
            raise RowError(column, "longer than 1000 characters")
        fields[column] = _number(value, column) if column in NUMERIC_FIELDS else value
    domain = _text(values, "domain").lower()
    if domain:
        fields["domain"] = domain
    return {
        "crm_id": crm_id,
        "name": _text(values, "name"),
        "domain": domain,
        "fields": fields,
        "owner_id": owner_id,
        "crm_owner_id": _text(values, "crm_owner_id")[:64],
    }


def opportunity_row_parse(
    values: dict[str, str], *, members_by_email: dict[str, int], accounts_by_crm_id: dict
) -> dict:
    crm_id = _text(values, "crm_id", required=True)
    account_crm_id = _text(values, "account_crm_id", required=True)
    account_id = accounts_by_crm_id.get(account_crm_id)
    if account_id is None:
        raise RowError("account_crm_id", f"no account has the crm_id {account_crm_id}")
    owner_email = values.get("owner_email", "").lower()
    owner_id = None
    if owner_email:
        owner_id = members_by_email.get(owner_email)
        if owner_id is None:
            raise RowError("owner_email", f"no member has the email {owner_email}")
    probability = _number(values.get("probability", ""), "probability")
    if probability is not None and not (0 <= probability <= 100):
        raise RowError("probability", "must be between 0 and 100")
    amount = _number(values.get("amount", ""), "amount")
    if amount is not None and abs(amount) >= 10**16:
        raise RowError("amount", "too large")
    is_closed = _bool(values.get("is_closed", ""), "is_closed")
    close_date = _date(values.get("close_date", ""), "close_date")
    return {
        "crm_id": crm_id,
        "account_id": account_id,
        "name": _text(values, "name"),
        "owner_id": owner_id,
        "stage": _text(values, "stage")[:100],
        "probability": int(probability) if probability is not None else None,
        "amount": Decimal(str(amount)) if amount is not None else None,
        "close_date": close_date,
        "is_closed": is_closed,
        "is_won": _bool(values.get("is_won", ""), "is_won"),
        "created_date": _date(values.get("created_date", ""), "created_date"),
        "closed_date": close_date if is_closed else None,
    }

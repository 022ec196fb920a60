"""Tabular exports: one column definition feeds CSV, XLSX and the dashboard's HTML tables.

Spreadsheets run a cell that starts with `=`, `+`, `-` or `@` as a formula (and some also
after a leading tab or carriage return). Exported values come from cloud APIs and from the
wire of servers we do not control — a hostile server can put `=HYPERLINK(…)` in its
certificate subject — so every text cell of CSV and XLSX passes through `neutralise()`.

Writers take iterables and never hold all rows: CSV yields one line at a time, XLSX uses
openpyxl's write-only mode, JSON yields one row at a time with the exact layout of
`json.dumps(document, indent=2)`.

Pure module: no Django model.
"""

from __future__ import annotations

import csv
import json
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO, Any

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# XML 1.0 forbids these; openpyxl refuses a cell holding one rather than writing it.
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


DATETIME_KEYS = frozenset(
    {
        "server_cert_not_after",
        "ca_valid_till",
        "last_checked",
        "evaluated_at",
        "first_seen",
        "last_seen",
    }
)
BOOLEAN_KEYS = frozenset({"transport_enforced", "ssl_enabled", "ssl_forced", "evaluation_behind"})


def kind_of(key: str) -> str:
    """How a typed spreadsheet stores the report column `key`."""
    if key in DATETIME_KEYS:
        return "datetime"
    return "bool" if key in BOOLEAN_KEYS else "text"


def readable(key: str) -> str:
    """`server_cert_not_after` → "Server cert not after"."""
    words = key.replace("_", " ")
    return words[:1].upper() + words[1:]


@dataclass(frozen=True)
class Column:
    """One column of an exported table: a stable key (the CSV header), a header for people,
    and how to read the value from a row."""

    key: str
    header: str
    value: Callable[[Any], Any]
    # How a typed spreadsheet stores it: "text", "datetime", "bool" or "number".
    kind: str = "text"


def neutralise(text: str) -> str:
    """Prefix a cell that a spreadsheet would evaluate with `'`, so it stays text."""
    if text.startswith(FORMULA_TRIGGERS):
        return "'" + text
    return text


def cell_text(value: Any) -> str:
    """The text of one cell: empty for unknown, `true`/`false`, lists space-separated,
    mappings as compact JSON."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return " ".join(cell_text(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    return str(value)


def export_cells(columns: Iterable[Column], row: Any) -> list[str]:
    return [neutralise(cell_text(column.value(row))) for column in columns]


class _Line:
    """A csv.writer target that hands back the line it was given instead of storing it."""

    def write(self, text: str) -> str:
        return text


def csv_lines(columns: tuple[Column, ...], rows: Iterable[Any]) -> Iterator[str]:
    """The header line, then one line per row, each produced only when asked for."""
    writer = csv.writer(_Line(), lineterminator="\n")
    yield writer.writerow([column.key for column in columns])
    for row in rows:
        yield writer.writerow(export_cells(columns, row))


def write_xlsx(
    target: str | IO[bytes],
    columns: tuple[Column, ...],
    rows: Iterable[Any],
    *,
    title: str,
    about: Iterable[tuple[str, Any]] = (),
) -> int:
    """Write one sheet (keys as the header row) in write-only mode, and `about` (when, by
    whom, which filters) on a second; returns the row count."""
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.append([column.key for column in columns])
    count = 0
    for row in rows:
        sheet.append([_XML_ILLEGAL.sub("\ufffd", cell) for cell in export_cells(columns, row)])
        count += 1
    _about_sheet(workbook, about)
    workbook.save(target)
    return count


def _about_sheet(workbook, about: Iterable[tuple[str, Any]]) -> None:
    facts = list(about)
    if facts:
        info = workbook.create_sheet(title="About this export")
        for name, value in facts:
            info.append([name, _typed(info, value, "datetime" if name.endswith(" at") else "text")])


def _as_utc_naive(value: Any) -> datetime | None:
    """A spreadsheet date: naive, in UTC (spreadsheets have no time zones)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
    if not isinstance(value, datetime):
        return None
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def _typed(sheet, value: Any, kind: str):
    from openpyxl.cell import WriteOnlyCell

    if value is None:
        return None
    if kind == "datetime":
        moment = _as_utc_naive(value)
        if moment is not None:
            cell = WriteOnlyCell(sheet, value=moment)
            cell.number_format = "yyyy-mm-dd hh:mm"
            return cell
    if kind == "bool" and isinstance(value, bool):
        return value
    if kind == "number" and isinstance(value, int | float) and not isinstance(value, bool):
        return value
    if isinstance(value, dict):  # evidence: readable, one member a line
        value = json.dumps(value, ensure_ascii=False, sort_keys=True, indent=1)
    return _XML_ILLEGAL.sub("\ufffd", neutralise(cell_text(value)))


def write_typed_xlsx(
    target: str | IO[bytes],
    columns: tuple[Column, ...],
    rows: Iterable[Any],
    *,
    title: str,
    about: Iterable[tuple[str, Any]] = (),
) -> int:
    """Write one sheet for people: readable headers, real dates (UTC), booleans and numbers,
    the header row frozen and an autofilter over the table; `about` (what this export is,
    when, by whom, with which filters) on a second sheet. Returns the row count."""
    from openpyxl import Workbook
    from openpyxl.utils import get_column_letter

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=title[:31])
    sheet.freeze_panes = "A2"
    sheet.append([column.header for column in columns])
    count = 0
    for row in rows:
        sheet.append([_typed(sheet, column.value(row), column.kind) for column in columns])
        count += 1
    sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{count + 1}"
    _about_sheet(workbook, about)
    workbook.save(target)
    return count


def json_document(head: dict[str, Any], key: str, rows: Iterable[dict]) -> Iterator[str]:
    """`json.dumps({**head, key: list(rows)}, indent=2, ensure_ascii=False) + "\\n"`, in pieces.

    The rows are the last member, so the document streams: one piece per row.
    """
    opening = json.dumps({**head, key: []}, indent=2, ensure_ascii=False)
    # `…"key": []\n}` → `…"key": [`
    prefix = opening[: opening.rindex("[]")] + "["
    first = True
    for row in rows:
        text = json.dumps(row, indent=2, ensure_ascii=False).replace("\n", "\n    ")
        yield ("" if not first else prefix) + ("\n    " if first else ",\n    ") + text
        first = False
    yield (prefix + "]\n}\n") if first else "\n  ]\n}\n"

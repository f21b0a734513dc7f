"""Read one data-contract table (CSV or .xlsx) into header-normalised rows of text.

This layer only answers "can this file be read as a table at all?": size, encoding, byte-order mark,
ragged rows, missing or duplicate headers. Cell rules live in `caseload.reader`. Every problem becomes an
`InputError`; nothing here raises on a user's file.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path

from caseload.validation import InputError

# A 100 MB workbook can unpack to far more: stop counting cells (including empty ones) past this many.
MAX_XLSX_CELLS = 20_000_000
SEPARATORS = ((";", "semicolons"), ("\t", "tabs"), ("|", "vertical bars"))
MAX_FILE_BYTES = 100 * 1024 * 1024  # an agency's export is a few MB; 100 MB is a wrong file, not a big agency
UTF8_BOM = b"\xef\xbb\xbf"
RESAVE_HINT = (
    "save it as UTF-8: in Excel, File > Save As > 'CSV UTF-8 (Comma delimited)'; "
    "in LibreOffice, tick 'Edit filter settings' and choose Unicode (UTF-8)"
)


@dataclass(slots=True)
class Table:
    """A table's rows as {normalised column: text}, each with its spreadsheet row number."""

    file: str
    columns: list[str]
    rows: list[tuple[int, dict[str, str]]] = field(default_factory=list)


def normalise_header(name: object) -> str:
    return str(name if name is not None else "").strip().lower().lstrip("\ufeff")


def read_table(path: Path, errors: list[InputError], *, sheet: str | None = None) -> Table | None:
    """Read a CSV or .xlsx file; on any file-level problem add errors and return None."""
    name = path.name
    try:
        size = path.stat().st_size
    except OSError as exc:
        errors.append(InputError(name, None, None, None, f"cannot be read: {exc.strerror}"))
        return None
    if size > MAX_FILE_BYTES:
        errors.append(
            InputError(
                name, None, None, None,
                f"file is {size / 2**20:.0f} MB, over the {MAX_FILE_BYTES // 2**20} MB limit for one table",
            )
        )
        return None
    if size == 0:
        errors.append(InputError(name, None, None, None, "file is empty (no header row)"))
        return None
    if path.suffix.lower() == ".xlsx":
        raw_rows = _xlsx_rows(path, errors, sheet)
    else:
        raw_rows = _csv_rows(path, errors)
    if raw_rows is None:
        return None
    return _to_table(name, raw_rows, errors)


def _csv_rows(path: Path, errors: list[InputError]) -> list[list[str]] | None:
    data = path.read_bytes()
    name = path.name
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        errors.append(InputError(name, None, None, None, f"file is UTF-16, not UTF-8; {RESAVE_HINT}"))
        return None
    if data.startswith(UTF8_BOM):
        data = data[len(UTF8_BOM):]
    if b"\x00" in data:
        if _looks_like_utf16(data):
            errors.append(InputError(name, None, None, None, f"file is UTF-16, not UTF-8; {RESAVE_HINT}"))
        else:
            errors.append(InputError(name, None, None, None, "file is binary, not a CSV text file"))
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        guess = _guess_encoding(data)
        errors.append(
            InputError(
                name, line, None, None,
                f"file is not UTF-8{f' (it looks like {guess})' if guess else ''}; {RESAVE_HINT}",
            )
        )
        return None
    rows: list[list[str]] = []
    try:
        for row in csv.reader(io.StringIO(text, newline="")):
            rows.append(row)
    except csv.Error as exc:
        reason = str(exc)
        if "field larger than field limit" in reason:
            reason = f"a cell is longer than {csv.field_size_limit():,} characters (an unmatched \" character?)"
        errors.append(InputError(name, len(rows) + 1, None, None, f"not a readable CSV file: {reason}"))
        return None
    unclosed = _unclosed_quote_row(text)
    if unclosed is not None and unclosed <= len(rows):
        header = next((r for r in rows if any(c.strip() for c in r)), [])
        position = len(rows[unclosed - 1]) - 1  # the lenient reader put the rest of the file in this cell
        column = normalise_header(header[position]) if position < len(header) else f"#{position + 1}"
        errors.append(
            InputError(name, unclosed, column or f"#{position + 1}", None,
                       'a quoted cell is never closed (an unmatched " character): it runs to the end of the file')
        )
        return None
    return rows


def _looks_like_utf16(data: bytes) -> bool:
    """UTF-16 text without its byte-order mark: every other byte of ASCII text is a zero."""
    sample = data[:4096]
    if len(sample) < 4:
        return False
    even, odd = sample[0::2].count(0) / len(sample[0::2]), sample[1::2].count(0) / len(sample[1::2])
    return (odd > 0.8 and even < 0.05) or (even > 0.8 and odd < 0.05)


def _unclosed_quote_row(text: str) -> int | None:
    """The row where a quoted cell opens and never closes, or None. The lenient reader would swallow the
    rest of the file into that one cell, and report a misleading error about its value."""
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    count = 0
    try:
        for _ in reader:
            count += 1
    except csv.Error as exc:
        if "unexpected end of data" in str(exc):
            return count + 1
    return None


def _guess_encoding(data: bytes) -> str | None:
    from charset_normalizer import from_bytes

    best = from_bytes(data[:200_000]).best()
    return best.encoding if best is not None else None


def _xlsx_rows(path: Path, errors: list[InputError], sheet: str | None) -> list[list[str]] | None:
    from openpyxl import load_workbook

    name = path.name

    def unreadable(exc: BaseException) -> None:
        errors.append(InputError(name, None, None, None, f"not a readable .xlsx workbook ({type(exc).__name__})"))

    # openpyxl parses a zip of XML: a damaged file can fail in zlib, the XML parser or openpyxl itself, while
    # opening or while reading rows. Any failure there is the file's, so it is reported, never raised.
    try:
        book = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # noqa: BLE001 - see above
        unreadable(exc)
        return None
    rows: list[list[str]] = []
    cells = 0
    try:
        names = book.sheetnames
        wanted = next((n for n in names if sheet and n.strip().lower() == sheet), names[0])
        for row in book[wanted].iter_rows(values_only=True):
            texts = [_cell_text(v) for v in row]
            while texts and texts[-1] == "":
                texts.pop()
            cells += len(row)
            if cells > MAX_XLSX_CELLS:
                errors.append(InputError(name, len(rows) + 1, None, None,
                                         f"workbook has over {MAX_XLSX_CELLS:,} cells: not a caseload export"))
                return None
            rows.append(texts)
    except Exception as exc:  # noqa: BLE001 - see above
        unreadable(exc)
        return None
    finally:
        book.close()
    return rows


def _cell_text(value: object) -> str:
    """Excel's typed cells as the text a CSV would hold: dates ISO, whole numbers without '.0'."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _to_table(name: str, raw_rows: list[list[str]], errors: list[InputError]) -> Table | None:
    # Skip fully blank lines before the header (Excel exports sometimes start with one).
    start = 0
    while start < len(raw_rows) and not any(c.strip() for c in raw_rows[start]):
        start += 1
    if start == len(raw_rows):
        errors.append(InputError(name, None, None, None, "file is empty (no header row)"))
        return None
    header = [normalise_header(h) for h in raw_rows[start]]
    while header and header[-1] == "":
        header.pop()
    if len(header) == 1:
        separator = next((sep for sep, label in SEPARATORS if sep in header[0]), None)
        if separator is not None:
            label = dict(SEPARATORS)[separator]
            errors.append(InputError(
                name, start + 1, None, None,
                f"columns are separated by {label}, not commas: save it as 'CSV UTF-8 (Comma delimited)' "
                "(Excel in French uses ';' unless told otherwise)",
            ))
            return None
    found_errors = False
    seen: set[str] = set()
    for position, column in enumerate(header, start=1):
        if column == "":
            errors.append(InputError(name, start + 1, f"#{position}", None, "header cell is empty"))
            found_errors = True
        elif column in seen:
            errors.append(InputError(name, start + 1, column, None, "column appears twice in the header"))
            found_errors = True
        seen.add(column)
    table = Table(file=name, columns=header)
    width = len(header)
    data_rows = 0
    for offset, raw in enumerate(raw_rows[start + 1:], start=start + 2):
        cells = [c.strip() for c in raw]
        if not any(cells):
            continue  # blank line
        data_rows += 1
        if len(cells) > width and any(cells[width:]):
            errors.append(
                InputError(
                    name, offset, None, None,
                    f"row has {len(cells)} cells but the header has {width} (a stray comma or delimiter?)",
                )
            )
            found_errors = True
            continue
        cells += [""] * (width - len(cells))
        table.rows.append((offset, dict(zip(header, cells, strict=False))))
    if not data_rows:
        errors.append(InputError(name, None, None, None, "file has a header but no data rows"))
        return None
    return None if found_errors else table

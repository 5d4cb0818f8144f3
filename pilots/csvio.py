"""Reading case files and writing CSVs safely.

Reading is streamed: a file of any size is read row by row, so memory stays flat. A file that is not
a readable CSV at all (undecodable, no header, no external_id column, duplicate columns) is rejected
whole before anything is stored; problems within rows become problems of those cases.
"""

import codecs
import csv
import io
from collections.abc import Iterator
from typing import IO, Any

from pilots.services.intake import OUTCOME_COLUMNS, Arrival

RESERVED = ("external_id", "received_at", "due_at", *OUTCOME_COLUMNS)
OUTPUT_PREFIX = "output."
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
csv.field_size_limit(10 * 1024 * 1024)


class FileRejected(ValueError):
    """The file as a whole cannot be read as cases; the message says why, for the person uploading it."""


def neutralise(value: Any) -> Any:
    """Stop a spreadsheet from running a cell as a formula (CSV injection) in every CSV we write."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def writer(out: IO[str]):
    """A csv writer whose rows are neutralised."""
    plain = csv.writer(out)

    class SafeWriter:
        def writerow(self, row):
            return plain.writerow([neutralise(cell) for cell in row])

    return SafeWriter()


class _Echo:
    """A file that hands back what is written to it, so each CSV line can be streamed as made."""

    def write(self, value: str) -> str:
        return value


def streaming_writer():
    """A neutralising csv writer whose writerow returns the line, for StreamingHttpResponse."""
    return writer(_Echo())


def _text(binary: IO[bytes]) -> IO[str]:
    return io.TextIOWrapper(binary, encoding="utf-8-sig", errors="strict", newline="")


def _delimiter(header_line: str) -> str:
    return ";" if header_line.count(";") > header_line.count(",") else ","


def check_file(binary: IO[bytes]) -> tuple[list[str], str, int]:
    """Read the whole file once, without storing anything: refuse what is not a CSV of cases.

    Returns the header, the delimiter and the number of data rows. The file is left at its start.
    """
    binary.seek(0)
    decoder = codecs.getincrementaldecoder("utf-8-sig")(errors="strict")
    line, offset = 1, 0
    first_line = ""
    while chunk := binary.read(1 << 20):
        try:
            text = decoder.decode(chunk)
        except UnicodeDecodeError as error:
            raise FileRejected(
                f"The file is not UTF-8 text (byte {offset + error.start + 1}, around line {line}). "
                "Save it as “CSV UTF-8” and upload it again."
            ) from None
        if not first_line:
            first_line = text.split("\n", 1)[0]
        line += text.count("\n")
        offset += len(chunk)
    decoder.decode(b"", final=True)
    if "\x00" in first_line:
        raise FileRejected("The file is not a CSV text file.")
    binary.seek(0)
    text = _text(binary)
    reader = csv.reader(text, delimiter=_delimiter(first_line))
    rows = 0
    try:
        header = next(reader)
        for _cells in reader:
            rows += 1
    except StopIteration:
        raise FileRejected("The file is empty.") from None
    except csv.Error as error:
        raise FileRejected(f"Line {reader.line_num} cannot be read as CSV: {error}.") from None
    finally:
        text.detach()
        binary.seek(0)
    header = [name.strip() for name in header]
    if "external_id" not in header:
        raise FileRejected(
            "The header has no external_id column: every case needs the id it has in your own system. "
            "Download the CSV template for the expected columns."
        )
    seen, duplicates = set(), []
    for name in header:
        if name in seen:
            duplicates.append(name)
        seen.add(name)
    if duplicates:
        raise FileRejected(f"The header names these columns twice: {', '.join(sorted(set(duplicates)))}.")
    if "" in header:
        raise FileRejected("A column of the header has no name.")
    return header, _delimiter(first_line), rows


def read_cases(binary: IO[bytes], header: list[str], delimiter: str) -> Iterator[tuple[Arrival, int]]:
    """Yield each data row as an Arrival, with the number of bytes read so far (for progress)."""
    binary.seek(0)
    text = _text(binary)
    reader = csv.reader(text, delimiter=delimiter)
    next(reader)
    width = len(header)
    columns = [
        ("reserved", name)
        if name in RESERVED
        else ("output", name[len(OUTPUT_PREFIX) :])
        if name.startswith(OUTPUT_PREFIX)
        else ("input", name)
        for name in header
    ]
    try:
        for cells in reader:
            if not cells or (len(cells) == 1 and not cells[0].strip()):
                continue  # a blank line
            extra = []
            if len(cells) != width:
                extra.append(
                    (
                        "row",
                        "invalid",
                        f"Line {reader.line_num} has {len(cells)} cells; the header has {width}. "
                        + (
                            "Extra cells were dropped."
                            if len(cells) > width
                            else "Missing cells were left empty."
                        ),
                    )
                )
            arrival = Arrival(
                external_id="", inputs={}, outputs={}, row=reader.line_num, extra_problems=extra
            )
            for (kind, name), value in zip(columns, cells, strict=False):
                if kind == "input":
                    arrival.inputs[name] = value
                elif kind == "output":
                    arrival.outputs[name] = value
                elif name == "external_id":
                    arrival.external_id = value.strip()
                elif name in ("received_at", "due_at"):
                    setattr(arrival, name, value)
                else:
                    arrival.outcome[name] = value
            yield arrival, binary.tell()
    except csv.Error as error:
        raise FileRejected(f"Line {reader.line_num} cannot be read as CSV: {error}.") from None
    finally:
        text.detach()

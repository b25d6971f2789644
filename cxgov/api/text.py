"""Text files from spreadsheet programs: their encodings, and CSV records with their lines.

Apart from the parsers so that code reading a parsed body (`metrics.api.bulk`) need not
import DRF's views (the parsers' module does, through the exception handler).
"""

from rest_framework import exceptions


def decode_text(raw: bytes) -> str:
    """A spreadsheet program's text file: UTF-8 (with or without Excel's BOM), else Windows-1252.

    Excel writes "CSV UTF-8" with a BOM and plain "CSV" in the machine's code page (Windows-1252
    in the West). A file valid in neither is refused rather than read with wrong letters.
    """
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return raw.decode("cp1252")
    except UnicodeDecodeError:
        raise exceptions.ParseError(
            "The file is neither UTF-8 nor Windows-1252 text: save it as 'CSV UTF-8' and send it again."
        ) from None


class CSVTable(list):
    """Parsed CSV: a list of `(line, cells)` records (the header's line is 1), and its header."""

    def __init__(self, header: list[str], records: list[tuple[int, list[str]]]) -> None:
        super().__init__(records)
        self.header = header

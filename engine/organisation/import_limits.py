"""What one organisation import may cost: the limits checked before and while a file is read.

A .xlsx file is a zip archive: a 1 MB upload can declare gigabytes of XML. So the archive's directory is checked
(members, declared sizes, compression ratio) before any member is decompressed, the XML parts are scanned as a
stream (cells, rows, characters) before openpyxl parses them, and rows are read one at a time in openpyxl's
read-only mode. zipfile never returns more bytes than a member declares, so the declared sizes bound the real ones.
docs/reliability/hostile-input.md lists the limits and the files that test them.

Each limit can be changed with an environment variable CHUANGZHENG_IMPORT_<NAME> (e.g.
CHUANGZHENG_IMPORT_ROWS=20000), read at every import; a value that is not a positive whole number is ignored.
"""
import dataclasses
import logging
import os

MIB = 1024 * 1024
ENV_PREFIX = 'CHUANGZHENG_IMPORT_'

log = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class ImportLimits:
    file_bytes: int = 10 * MIB          # the file as uploaded: the CSV, or the zipped .xlsx
    zip_members: int = 500              # entries in the .xlsx archive (Excel writes about 10–40)
    part_bytes: int = 16 * MIB          # one archive member, uncompressed: a worksheet, the shared strings, an image
    xml_part_bytes: int = 4 * MIB       # one other XML member (styles, workbook, relationships …), uncompressed
    total_bytes: int = 64 * MIB         # all members together, uncompressed
    ratio: int = 100                    # uncompressed / compressed size, checked for members over ratio_from bytes
    ratio_from: int = 1 * MIB           # (Excel's worksheets compress about 5–20 times)
    rows: int = 10_000                  # data rows below the header
    columns: int = 100                  # columns read; anything further right is ignored like an unknown column
    row_cells: int = 16_384             # cells one worksheet row or CSV line may hold (Excel's sheet width)
    cell_chars: int = 1_000             # characters in one cell
    shared_strings: int = 200_000       # distinct texts in a workbook's shared-string table

    @classmethod
    def from_environment(cls, environ=None):
        environ = os.environ if environ is None else environ
        changes = {}
        for field in dataclasses.fields(cls):
            name = ENV_PREFIX + field.name.upper()
            text = environ.get(name)
            if text is None:
                continue
            try:
                value = int(text.replace('_', ''))
            except ValueError:
                value = 0
            if value > 0:
                changes[field.name] = value
            else:
                log.warning('%s=%r is not a positive whole number; the default %s stays', name, text, field.default)
        return cls(**changes)


HEADER_ROWS = 10         # a title row or two may sit above the header: the header is looked for in the top rows
BLANK_RUN = 1000         # sheets formatted down to row 1,048,576: reading stops after this many blank rows

"""Reading the rows of an uploaded .xlsx or .csv file within the limits of engine/import_limits.py.

An .xlsx file is checked in three steps before a row is kept: the zip directory (members, declared sizes,
compression ratio, encryption); every XML member streamed through expat (well-formed, no DTD; the shared
strings counted and measured); the first worksheet streamed through expat (cells per row, characters per cell,
rows with values). Only then does openpyxl, in read-only mode, hand over one row at a time. A CSV file is
decoded and read record by record with the same row, column and cell limits.
"""
import contextlib
import csv
import io
import re
import warnings
import zipfile
import zlib
from xml.parsers import expat

from engine.organisation.import_limits import BLANK_RUN, HEADER_ROWS, MIB

INVISIBLE = dict.fromkeys(map(ord, '\ufeff\u200b\u200c\u200d\u2060'), None)
DATA_PART = re.compile(r'(^|/)(worksheets/[^/]+|sharedstrings[^/]*)\.xml$', re.I)
SHARED_STRINGS = re.compile(r'(^|/)sharedstrings[^/]*\.xml$', re.I)
WORKSHEET = re.compile(r'(^|/)worksheets/[^/]+\.xml$', re.I)
XML_PART = re.compile(r'\.(xml|rels)$', re.I)
CHUNK = 64 * 1024
XML_ERRORS = {'not well-formed (invalid token)': '有无效字符（例如 NUL）',
              'reference to invalid character number': '引用了 XML 不允许的字符（例如 &#0;）',
              'no element found': '内容不完整', 'mismatched tag': '标签不配对',
              'undefined entity': '引用了未定义的实体'}


class FileProblem(Exception):
    """The file cannot be read. `message`: Chinese with English in parentheses; `row`: the row as Excel numbers
    it, or None when the whole file is at fault."""

    def __init__(self, message, row=None):
        super().__init__(message)
        self.message, self.row = message, row


def is_blank(value):
    return value is None or (isinstance(value, str) and not value.translate(INVISIBLE).strip())


def _mb(size):
    return f'{size / MIB:.1f} MB'


def too_many_rows(limits):
    return FileProblem(f'数据行太多：一次最多导入 {limits.rows} 行，请分成几个文件 '
                       f'(too many rows: at most {limits.rows} data rows per file)')


def read_table(data, extension, limits):
    """[(row number as Excel shows it, [cell values])] of the non-blank rows, at most `limits.columns` cells
    each (CSV cells are text; .xlsx cells keep their type: str, int, float, bool, datetime). Raises FileProblem."""
    if len(data) > limits.file_bytes:
        raise FileProblem(f'文件太大：{_mb(len(data))}，最多 {_mb(limits.file_bytes)} '
                          f'(file too large: at most {_mb(limits.file_bytes)})')
    rows = _xlsx_rows(data, limits) if extension in ('.xlsx', '.xlsm') else _csv_rows(data, limits)
    kept = []
    with contextlib.closing(iter(rows)) if extension == '.csv' else contextlib.nullcontext(rows) as rows:
        for number, cells in rows:
            cells = list(cells[:limits.columns])
            while cells and cells[-1] is None:
                cells.pop()
            if any(not is_blank(cell) for cell in cells):
                kept.append((number, cells))
                if len(kept) > limits.rows + HEADER_ROWS:
                    raise too_many_rows(limits)
    return kept


# ---------------------------------------------------------------------------------------------------- CSV

def _decode(data):
    if data.startswith((b'\xff\xfe', b'\xfe\xff')):
        try:
            return data.decode('utf-16')
        except UnicodeDecodeError:
            pass
    else:
        try:
            return data.decode('utf-8-sig')
        except UnicodeDecodeError:
            pass
        try:
            return data.decode('gb18030')
        except UnicodeDecodeError:
            pass
    raise FileProblem('无法识别文件编码，请另存为 UTF-8 或 GBK 编码的 CSV '
                      '(unreadable text encoding: save as UTF-8 or GBK CSV)')


def _csv_rows(data, limits):
    text = _decode(data)
    if '\x00' in text:
        raise FileProblem('文件内容不是 CSV 文本 (not a CSV text file)')
    first = next((line for line in text[:CHUNK].splitlines() if line.strip()), '')
    delimiter = max((',', '\t', ';'), key=first.count) if first else ','
    # The csv module's own cap on a field (process-wide; gunicorn's workers are single-threaded processes),
    # so an endless quoted field stops where the limit is, not at the end of the file.
    previous = csv.field_size_limit(limits.cell_chars + 1)
    number = 0
    try:
        reader = csv.reader(io.StringIO(text, newline=''), delimiter=delimiter)
        for number, cells in enumerate(reader, start=1):
            if len(cells) > limits.row_cells:
                raise FileProblem(f'一行有 {len(cells)} 列，超过 {limits.row_cells} 列 '
                                  f'(a line with more than {limits.row_cells} fields)', number)
            for column, cell in enumerate(cells[:limits.columns], start=1):
                if len(cell) > limits.cell_chars:
                    raise _long_cell(f'第 {column} 列', limits, number)
            yield number, cells[:limits.columns]
    except csv.Error as err:
        if 'field larger than field limit' in str(err):
            raise _long_cell('', limits, number + 1) from None
        raise FileProblem(f'CSV 格式错误：{err} (malformed CSV)', number + 1) from None
    finally:
        csv.field_size_limit(previous)


def _long_cell(where, limits, row=None):
    return FileProblem(f'单元格{" " + where + " " if where else ""}超过 {limits.cell_chars} 个字符 '
                       f'(a cell is longer than {limits.cell_chars} characters)', row)


# ---------------------------------------------------------------------------------------------------- .xlsx

def _unreadable(err=None):
    detail = f'：{type(err).__name__}' if err is not None else ''
    return FileProblem(f'无法读取 Excel 文件，请确认是 .xlsx 格式（设置了密码的文件请先取消密码）{detail} '
                       f'(not a readable .xlsx workbook)')


def check_archive(archive, limits):
    """Refuse a zip whose directory promises more than an import may cost, before anything is decompressed."""
    members = archive.infolist()
    if len(members) > limits.zip_members:
        raise FileProblem(f'Excel 文件包含 {len(members)} 个部分，最多 {limits.zip_members} 个 '
                          f'(the workbook has more than {limits.zip_members} zip members)')
    total = 0
    for info in members:
        name = info.filename
        if info.flag_bits & 0x1:
            raise FileProblem('Excel 文件已加密，请先取消密码 (the workbook is encrypted)')
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _unreadable()
        limit = limits.xml_part_bytes if XML_PART.search(name) and not DATA_PART.search(name) else limits.part_bytes
        if info.file_size > limit:
            raise FileProblem(f'Excel 文件解压后过大：「{name}」有 {_mb(info.file_size)}，每个部分最多 {_mb(limit)} '
                              f'(zip member {name} is {_mb(info.file_size)} uncompressed, more than {_mb(limit)})')
        if info.file_size > limits.ratio_from and info.file_size > limits.ratio * max(info.compress_size, 1):
            ratio = info.file_size // max(info.compress_size, 1)
            raise FileProblem(f'Excel 文件的压缩比异常：「{name}」解压后是压缩时的 {ratio} 倍，最多 {limits.ratio} 倍 '
                              f'(zip member {name} expands {ratio} times, more than {limits.ratio}: a zip bomb?)')
        total += info.file_size
    if total > limits.total_bytes:
        raise FileProblem(f'Excel 文件解压后过大：共 {_mb(total)}，最多 {_mb(limits.total_bytes)} '
                          f'(the workbook is {_mb(total)} uncompressed, more than {_mb(limits.total_bytes)})')


class _Scan:
    """One XML member streamed through expat: well-formed, no DTD; for shared strings and the worksheet read,
    the cells, rows and characters counted on the way (constant memory, whatever the member holds)."""

    def __init__(self, name, kind, limits):
        self.name, self.kind, self.limits = name, kind, limits
        self.text_depth = 0          # inside <v>, <t> or <f>
        self.chars = 0               # characters of the current cell or shared string
        self.strings = self.rows_with_values = self.row_cells = 0
        self.cell = self.row = None
        self.row_has_value = False

    def run(self, archive):
        parser = expat.ParserCreate(namespace_separator=' ')
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)
        parser.StartDoctypeDeclHandler = self.doctype
        parser.EntityDeclHandler = self.doctype
        if self.kind != 'xml':
            parser.StartElementHandler = self.start
            parser.EndElementHandler = self.end
            parser.CharacterDataHandler = self.text
        try:
            with archive.open(self.name) as stream:
                while True:
                    chunk = stream.read(CHUNK)
                    parser.Parse(chunk, not chunk)
                    if not chunk:
                        break
        except expat.ExpatError as err:
            english = expat.ErrorString(err.code)
            chinese = XML_ERRORS.get(english, '格式错误')
            raise FileProblem(f'Excel 文件中的「{self.name}」不是有效的 XML：第 {err.lineno} 行第 {err.offset + 1} 列'
                              f'{chinese} (malformed XML in {self.name}, line {err.lineno}: {english})') from None
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError) as err:
            raise _unreadable(err) from None

    def doctype(self, *args):
        raise FileProblem(f'Excel 文件中的「{self.name}」含有 DTD 声明，.xlsx 文件不应有 '
                          f'(a DTD in {self.name}: not allowed in .xlsx files)')

    def start(self, tag, attrs):
        tag = tag.rpartition(' ')[2]
        if tag in ('v', 't', 'f'):
            self.text_depth += 1
        elif self.kind == 'strings' and tag == 'si':
            self.strings += 1
            self.chars = 0
            if self.strings > self.limits.shared_strings:
                raise FileProblem(f'Excel 文件中的文字超过 {self.limits.shared_strings} 种 '
                                  f'(more than {self.limits.shared_strings} shared strings)')
        elif self.kind == 'sheet' and tag == 'row':
            self.row = _row_number(attrs.get('r'), self.row)
            self.row_cells, self.row_has_value = 0, False
        elif self.kind == 'sheet' and tag == 'c':
            self.row_cells += 1
            if self.row_cells > self.limits.row_cells:
                raise FileProblem(f'一行有超过 {self.limits.row_cells} 个单元格 '
                                  f'(a row with more than {self.limits.row_cells} cells)', self.row)
            self.cell, self.chars = attrs.get('r'), 0

    def end(self, tag):
        tag = tag.rpartition(' ')[2]
        if tag in ('v', 't', 'f'):
            self.text_depth -= 1
        elif self.kind == 'sheet' and tag == 'c':
            self.row_has_value = self.row_has_value or self.chars > 0
            self.cell = None
        elif self.kind == 'sheet' and tag == 'row' and self.row_has_value:
            self.rows_with_values += 1
            if self.rows_with_values > self.limits.rows + HEADER_ROWS:
                raise too_many_rows(self.limits)

    def text(self, data):
        if self.text_depth <= 0:
            return
        self.chars += len(data)
        if self.chars > self.limits.cell_chars:
            if self.kind == 'sheet' and self.cell:
                raise _long_cell(str(self.cell)[:12], self.limits, _row_number(self.cell, self.row))
            raise _long_cell('', self.limits, self.row if self.kind == 'sheet' else None)


def _row_number(reference, previous):
    """The row of an 'r' attribute ('12' on a row, 'B12' on a cell), else the one after the previous row."""
    digits = re.search(r'(\d{1,7})$', reference or '')
    if digits:
        return int(digits.group(1))
    return (previous or 0) + 1


def _xlsx_rows(data, limits):
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as err:
        raise _unreadable(err) from None
    with archive:
        check_archive(archive, limits)
        for info in archive.infolist():
            if XML_PART.search(info.filename):
                kind = 'strings' if SHARED_STRINGS.search(info.filename) else 'xml'
                _Scan(info.filename, kind, limits).run(archive)
        return _openpyxl_rows(data, archive, limits)


def _openpyxl_rows(data, archive, limits):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')      # Excel extensions openpyxl does not know: harmless here
        try:
            import openpyxl
            workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True, keep_links=False)
        except FileProblem:
            raise
        except Exception as err:              # any failure to parse a hostile file is the file's fault
            raise _unreadable(err) from None
        try:
            if not workbook.worksheets:
                return []
            sheet = workbook.worksheets[0]
            path = getattr(sheet, '_worksheet_path', None)        # openpyxl's read-only sheet knows its member
            paths = [path] if path in archive.NameToInfo else \
                [i.filename for i in archive.infolist() if WORKSHEET.search(i.filename)]
            for name in paths:
                _Scan(name, 'sheet', limits).run(archive)
            sheet.reset_dimensions()          # some writers store a wrong sheet size
            rows, blank_run = [], 0
            for number, values in enumerate(sheet.iter_rows(min_row=1, max_col=limits.columns, values_only=True),
                                            start=1):
                if any(not is_blank(v) for v in values):
                    rows.append((number, values))
                    blank_run = 0
                    if len(rows) > limits.rows + HEADER_ROWS:
                        raise too_many_rows(limits)
                else:
                    blank_run += 1
                    if blank_run >= BLANK_RUN:
                        break
            return rows
        except FileProblem:
            raise
        except Exception as err:
            raise FileProblem(f'无法读取 Excel 工作表：{type(err).__name__} (unreadable worksheet)') from None
        finally:
            workbook.close()

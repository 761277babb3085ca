"""Hostile organisation files, built in the tests: zip bombs, malformed worksheet XML, oversized CSV.

`xlsx()` writes a minimal workbook as Excel does (a shared-string table, one worksheet), streaming each member
through deflate, so a member of a gigabyte is built without holding it in memory."""
import io
import struct
import zipfile

MAIN = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main'
RELS = 'http://schemas.openxmlformats.org/package/2006/relationships'
DOC_RELS = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships'
TYPES = 'application/vnd.openxmlformats-officedocument.spreadsheetml'

HEADER = ['单位', '分会', '班组', '姓名', '工号', '角色', '用户名']
ROW = ['货运处', '一分会', '装卸一班', '张三', 'H1', '职工', '']
STRINGS = HEADER + ROW[:-1]                 # shared strings 0-6 the header, 7-12 the row

CONTENT_TYPES = f'''<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/xl/workbook.xml" ContentType="{TYPES}.sheet.main+xml"/>
<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{TYPES}.worksheet+xml"/>
<Override PartName="/xl/sharedStrings.xml" ContentType="{TYPES}.sharedStrings+xml"/>
</Types>'''
ROOT_RELS = (f'<Relationships xmlns="{RELS}"><Relationship Id="rId1" Target="xl/workbook.xml" '
             f'Type="{DOC_RELS}/officeDocument"/></Relationships>')
WORKBOOK = (f'<workbook xmlns="{MAIN}" xmlns:r="{DOC_RELS}"><sheets><sheet name="组织" sheetId="1" r:id="rId1"/>'
            f'</sheets></workbook>')
WORKBOOK_RELS = (f'<Relationships xmlns="{RELS}"><Relationship Id="rId1" Type="{DOC_RELS}/worksheet" '
                 f'Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="{DOC_RELS}/sharedStrings" '
                 f'Target="sharedStrings.xml"/></Relationships>')
SHEET_START = f'<worksheet xmlns="{MAIN}"><sheetData>'.encode()
SHEET_END = b'</sheetData></worksheet>'


def shared(index):
    return b'<c t="s"><v>%d</v></c>' % index


def inline(text, ref=None):
    where = b' r="%s"' % ref.encode() if ref else b''
    return b'<c%s t="inlineStr"><is><t>%s</t></is></c>' % (where, text.encode() if isinstance(text, str) else text)


HEADER_ROW = b'<row r="1">' + b''.join(shared(i) for i in range(7)) + b'</row>'
DATA_ROW = b'<row>' + b''.join(shared(i) for i in range(7, 13)) + b'</row>'     # r is optional: every row alike


def strings_xml(strings=STRINGS):
    items = ''.join(f'<si><t>{s}</t></si>' for s in strings)
    return f'<sst xmlns="{MAIN}" count="{len(strings)}" uniqueCount="{len(strings)}">{items}</sst>'.encode()


def xlsx(sheet=(HEADER_ROW, DATA_ROW), strings=None, members=(), level=6):
    """A workbook whose worksheet's sheetData holds the byte chunks `sheet` (an iterable, streamed), with the
    shared strings `strings` (bytes; default: STRINGS) and extra or replacing members [(name, bytes or chunks)]."""
    extra = dict(members)
    parts = {'[Content_Types].xml': CONTENT_TYPES.encode(), '_rels/.rels': ROOT_RELS.encode(),
             'xl/workbook.xml': WORKBOOK.encode(), 'xl/_rels/workbook.xml.rels': WORKBOOK_RELS.encode(),
             'xl/sharedStrings.xml': strings if strings is not None else strings_xml(),
             'xl/worksheets/sheet1.xml': _chain([SHEET_START], sheet, [SHEET_END])}
    parts.update(extra)
    out = io.BytesIO()
    with zipfile.ZipFile(out, 'w', zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        for name, content in parts.items():
            info = zipfile.ZipInfo(name, date_time=(2026, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            # the member's level: `_compresslevel` before Python 3.13, `compress_level` since
            setattr(info, 'compress_level' if hasattr(info, 'compress_level') else '_compresslevel', level)
            with archive.open(info, 'w') as member:
                for chunk in ([content] if isinstance(content, bytes) else content):
                    member.write(chunk)
    return out.getvalue()


def _chain(*iterables):
    for iterable in iterables:
        yield from iterable


def huge_cell(size=1024 ** 3):
    """The issue's first bomb: about 1 MB on disk, one cell of `size` characters ('A') in row 2."""
    def cell():
        yield b'<row r="2"><c r="D2" t="inlineStr"><is><t>'
        block = b'A' * (1024 * 1024)
        for _ in range(size // len(block)):
            yield block
        yield b'</t></is></c></row>'
    return xlsx(_chain([HEADER_ROW], cell()), level=9)


def identical_rows(count=2_000_000):
    """The issue's second bomb: about 1.2 MB on disk, `count` identical rows below the header."""
    def rows():
        block = DATA_ROW * 10_000
        for _ in range(count // 10_000):
            yield block
    return xlsx(_chain([HEADER_ROW], rows()))


def declaring(data, member, size):
    """`data` with the uncompressed size of `member` rewritten to `size` in both zip headers (and nothing else):
    a zip that lies about how much a member holds."""
    data = bytearray(data)
    name = member.encode()
    local = data.find(b'PK\x03\x04')
    while local != -1:
        name_length = struct.unpack_from('<H', data, local + 26)[0]
        if data[local + 30:local + 30 + name_length] == name:
            struct.pack_into('<I', data, local + 22, size)
            break
        local = data.find(b'PK\x03\x04', local + 4)
    central = data.find(b'PK\x01\x02')
    while central != -1:
        name_length = struct.unpack_from('<H', data, central + 28)[0]
        if data[central + 46:central + 46 + name_length] == name:
            struct.pack_into('<I', data, central + 24, size)
        central = data.find(b'PK\x01\x02', central + 4)
    return bytes(data)

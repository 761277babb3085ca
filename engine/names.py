"""Names as they may be stored (teams, branches, people, titles): no control characters, no bidi controls.

A control character (C0, DEL, C1) cannot be written into an Excel file and garbles logs and CSV; a bidirectional
override makes "gpj.exe" read as "exe.jpg". Names are checked wherever they enter: the organisation import, the
UI forms and API schemas, and the engine's own input schemas.
"""
import re

from marshmallow import ValidationError

# C0 controls (tab and newlines too: a name is one line), DEL, C1 controls, the bidi marks, embeddings,
# overrides and isolates, the line and paragraph separators, lone surrogates and the two non-characters
# XML cannot carry.
FORBIDDEN = re.compile('[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069\u2028\u2029'
                       '\ud800-\udfff\ufffe\uffff]')


def problem(text):
    """Why `text` cannot be a name, in Chinese and English, or None."""
    if not isinstance(text, str):
        return None
    found = FORBIDDEN.search(text)
    if found is None:
        return None
    code = f'U+{ord(found.group()):04X}'
    return (f'含有不允许的字符 {code}：名称中不能有控制字符或文字方向控制符 '
            f'(contains {code}: names may not hold control characters or bidirectional controls)')


def validate(text):
    """A marshmallow validator: `validate=[names.validate]`."""
    message = problem(text)
    if message:
        raise ValidationError(message)
    return True

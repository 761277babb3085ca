"""Excel export of a campaign: participation, applications with scores, innovation results."""
import io
import re

from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from models import Application, Branch, InnovationResult, Participation, Team

from .helpers import label, state_label
from workflows.settings import TIER_LABELS, TOPIC_LABELS
from workflows.stages import STAGE_LABELS


def _sheet(book, title, header, rows):
    sheet = book.create_sheet(title)
    sheet.append(header)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([_cell(v) for v in row])
    for i, name in enumerate(header, start=1):
        sheet.column_dimensions[get_column_letter(i)].width = max(10, len(str(name)) * 2 + 2)
    sheet.freeze_panes = 'A2'
    return sheet


# What an .xlsx cell cannot hold (XML 1.0 refuses these code points; openpyxl raises on C0 controls): stored
# data from before names were checked, or written around the application, must still export.
NOT_IN_XML = re.compile('[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]')
CELL_MAX = 32767          # Excel's longest cell text


def _cell(value):
    if not isinstance(value, str):
        return value
    value = NOT_IN_XML.sub('\ufffd', value)[:CELL_MAX]
    # Text that Excel would run as a formula is written as plain text (CSV/formula injection).
    if value[:1] in ('=', '+', '-', '@', '\t', '\r'):
        return "'" + value[:CELL_MAX - 1]
    return value


def _team_rows(model, campaign):
    return (model.select(model, Team, Branch).join(Team).join(Branch)
            .where(model.campaign == campaign).order_by(Branch.id, Team.id))


def campaign_workbook(campaign):
    book = Workbook()
    book.remove(book.active)
    # headers and sheet names in the reader's language, like the labels in the cells
    _sheet(book, _('参与情况'), [_('分会'), _('班组'), _('状态'), _('当前阶段'), _('已达标阶段')],
           [(p.team.branch.name, p.team.name, state_label('participation', p.state), label(STAGE_LABELS[p.stage]),
             label(STAGE_LABELS[p.reached_stage]) if p.reached_stage else '') for p in _team_rows(Participation, campaign)])
    _sheet(book, _('评比申报'), [_('年度'), _('分会'), _('班组'), _('申报称号'), _('评定称号'), _('状态'), _('平均得分'),
                               _('表彰文号')],
           [(a.year, a.team.branch.name, a.team.name, label(TIER_LABELS[a.requested_tier]), label(TIER_LABELS[a.tier]),
             state_label('application', a.state), a.total_score, a.decision.doc_number if a.decision_id else '')
            for a in _team_rows(Application, campaign)])
    _sheet(book, _('创新成果'), [_('年度'), _('分会'), _('班组'), _('成果名称'), _('类别'), _('状态')],
           [(i.year, i.team.branch.name, i.team.name, i.title, label(TOPIC_LABELS[i.topic]),
             state_label('innovation', i.state)) for i in _team_rows(InnovationResult, campaign)])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()

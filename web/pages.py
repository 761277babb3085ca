"""A minimal status page until the approval UI lands (issue 3)."""
from flask import render_template_string

import workflows

from models import AuditHead, Campaign, Participation, Team, database, schema_exists

STATUS = """<!doctype html><html lang="zh-CN"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><title>创争 · 学习型班组创建</title></head>
<body style="font-family: sans-serif; max-width: 40em; margin: 2em auto">
<h1>创争 · 创建学习型班组活动</h1>
{% if ready %}
<p>班组 {{ teams }} 个；参与记录 {{ participations }} 条；审计记录 {{ head.seq }} 条。</p>
<ul>{% for c in campaigns %}<li>{{ c.title }}（{{ c.period }}）：{{ label(c.state) }}</li>{% endfor %}</ul>
{% else %}<p>数据库尚未初始化：请运行 <code>flask --app web init-db</code>。</p>{% endif %}
</body></html>"""


def init_app(app):
    @app.get('/')
    def index():
        ready = schema_exists()
        data = {}
        if ready:
            data = dict(teams=Team.select().count(), participations=Participation.select().count(),
                        head=AuditHead.get_by_id(1), campaigns=list(Campaign.select()))
        return render_template_string(STATUS, ready=ready, label=workflows.get('campaign').state_label, **data)

    @app.get('/healthz')
    def healthz():
        database.execute_sql('SELECT 1')
        return {'status': 'ok', 'schema': schema_exists()}

"""Default checklist of each stage, copied into every new campaign where union staff may edit it.

六个一 is named but not listed by the source; this default is derived from its 创建要求."""

DEFAULT_REQUIREMENTS = {
    'popularization': [
        ('shared_vision', '一个班组共同愿景', 'A shared team vision', '班组成员共同讨论形成并张贴', 'once'),
        ('bulletin_board', '一个"创争"宣传栏', 'A campaign bulletin board', '定期更新学习与创建内容', 'monthly'),
        ('training_plan', '一份班组学习培训计划', 'A team training plan', '年度计划，按月落实', 'yearly'),
        ('personal_plans', '一人一份个人学习计划', 'A personal learning plan for every member',
         '每名职工一份', 'yearly'),
        ('project_group', '一个课题攻关小组', 'An improvement project group', '围绕生产难题立项攻关', 'once'),
        ('learning_records', '一套职工学习档案', "Members' learning records", '记录培训、考试与成果', 'ongoing'),
    ],
    'consolidation': [
        ('team_learning', '团队学习机制', 'Team learning mechanism', '建立并运行团队学习制度', 'ongoing'),
        ('communication', '交流沟通机制', 'Communication mechanism', '定期交流，畅通沟通渠道', 'ongoing'),
        ('result_sharing', '成果共享机制', 'Result sharing mechanism', '学习与创新成果及时共享', 'ongoing'),
        ('innovation_change', '创新变革机制', 'Innovation & change mechanism', '鼓励改进与创新', 'ongoing'),
        ('learning_atmosphere', '一个气氛：全员学习、全过程学习、终身学习、快乐工作',
         'One atmosphere: everyone, all the time, lifelong learning, happy work',
         '工作学习化、学习工作化', 'ongoing'),
    ],
    'innovation': [
        ('learning_ability', '组织学习能力：系统思考、深度汇谈、反思反馈',
         'Organisational learning: systems thinking, dialogue, reflection', '', 'ongoing'),
        ('team_spirit', '强烈的团队精神', 'Strong team spirit', '', 'ongoing'),
        ('continuous_results', '持续取得创建成果', 'Continuous results', '', 'yearly'),
    ],
}


def default_requirement_rows():
    """Yield dicts ready to become Requirement rows (without the campaign)."""
    for stage, items in DEFAULT_REQUIREMENTS.items():
        for position, (code, zh, en, description, cadence) in enumerate(items):
            yield dict(stage=stage, code=code, title_zh=zh, title_en=en, description=description,
                       cadence=cadence, position=position)

CADENCE_LABELS = {
    'once': {'zh': '一次性', 'en': 'Once'},
    'monthly': {'zh': '每月', 'en': 'Monthly'},
    'yearly': {'zh': '每年', 'en': 'Yearly'},
    'ongoing': {'zh': '长期坚持', 'en': 'Ongoing'},
}

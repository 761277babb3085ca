"""The campaign (创建学习型班组活动): draft → popularization → consolidation → innovation → closed."""
from .rules import UNION

DEFINITION = {
    'name': 'campaign',
    'version': 1,
    'label': {'zh': '创建活动', 'en': 'Campaign'},
    'initial': 'draft',
    'create': {'event': 'create', 'label': {'zh': '创建', 'en': 'Create'}, 'allowed': [UNION],
               'effects': ['copy_default_requirements']},
    'states': [
        {'name': 'draft', 'label': {'zh': '筹备中', 'en': 'Draft'}},
        {'name': 'popularization', 'label': {'zh': '普及阶段', 'en': 'Popularization'}},
        {'name': 'consolidation', 'label': {'zh': '巩固提高阶段', 'en': 'Consolidation'}},
        {'name': 'innovation', 'label': {'zh': '创新发展阶段', 'en': 'Innovation'}},
        {'name': 'closed', 'label': {'zh': '已结束', 'en': 'Closed'}, 'final': True},
    ],
    'transitions': [
        {'event': 'launch', 'source': 'draft', 'dest': 'popularization',
         'label': {'zh': '启动', 'en': 'Launch'}, 'allowed': [UNION],
         'guards': ['has_requirements_for_every_stage']},
        {'event': 'advance', 'source': 'popularization', 'dest': 'consolidation',
         'label': {'zh': '进入下一阶段', 'en': 'Advance stage'}, 'allowed': [UNION],
         'guards': [{'name': 'is_stage_target_met', 'overridable': True}]},
        {'event': 'advance', 'source': 'consolidation', 'dest': 'innovation',
         'label': {'zh': '进入下一阶段', 'en': 'Advance stage'}, 'allowed': [UNION],
         'guards': [{'name': 'is_stage_target_met', 'overridable': True}]},
        {'event': 'close', 'source': 'innovation', 'dest': 'closed',
         'label': {'zh': '结束活动', 'en': 'Close'}, 'allowed': [UNION], 'requires': ['reason']},
    ],
}

"""An innovation result (创新成果): draft → submitted → branch approved → published in November."""
from .rules import BRANCH_REVIEW, LEADER, UNION

DEFINITION = {
    'name': 'innovation',
    'version': 1,
    'label': {'zh': '创新成果', 'en': 'Innovation result'},
    'initial': 'draft',
    'create': {'event': 'create', 'label': {'zh': '登记成果', 'en': 'Draft result'}, 'allowed': [LEADER]},
    'states': [
        {'name': 'draft', 'label': {'zh': '草稿', 'en': 'Draft'}},
        {'name': 'submitted', 'label': {'zh': '分会审核中', 'en': 'Branch review'}},
        {'name': 'returned', 'label': {'zh': '已退回', 'en': 'Returned'}},
        {'name': 'approved', 'label': {'zh': '分会已通过', 'en': 'Branch approved'}},
        {'name': 'published', 'label': {'zh': '已发布', 'en': 'Published'}, 'final': True},
        {'name': 'rejected', 'label': {'zh': '未通过', 'en': 'Rejected'}, 'final': True},
        {'name': 'withdrawn', 'label': {'zh': '已撤回', 'en': 'Withdrawn'}, 'final': True},
    ],
    'transitions': [
        {'event': 'submit', 'source': ['draft', 'returned'], 'dest': 'submitted',
         'label': {'zh': '提交', 'en': 'Submit'}, 'allowed': [LEADER], 'guards': ['has_result_summary']},
        {'event': 'approve', 'source': 'submitted', 'dest': 'approved',
         'label': {'zh': '审核通过', 'en': 'Approve'}, 'allowed': BRANCH_REVIEW, 'review': True},
        {'event': 'return', 'source': 'submitted', 'dest': 'returned',
         'label': {'zh': '退回', 'en': 'Return'}, 'allowed': BRANCH_REVIEW, 'review': True, 'requires': ['reason']},
        {'event': 'reject', 'source': 'submitted', 'dest': 'rejected',
         'label': {'zh': '不予通过', 'en': 'Reject'}, 'allowed': BRANCH_REVIEW, 'review': True,
         'requires': ['reason']},
        {'event': 'publish', 'source': 'approved', 'dest': 'published',
         'label': {'zh': '成果发布', 'en': 'Publish'}, 'allowed': [UNION], 'guards': ['is_release_date_reached'],
         'effects': ['stamp_published']},
        {'event': 'withdraw', 'source': ['draft', 'submitted', 'returned'], 'dest': 'withdrawn',
         'label': {'zh': '撤回', 'en': 'Withdraw'}, 'allowed': [LEADER], 'requires': ['reason']},
    ],
}

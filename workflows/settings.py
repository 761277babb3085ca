"""Campaign settings union staff can change per campaign; these are the defaults."""

DEFAULT_SETTINGS = {
    'targets': {'popularization': 50, 'consolidation': 80},   # percent of teams taking part
    'application_window': None,          # ['YYYY-MM-DD', 'YYYY-MM-DD'] or None for always open
    'notice_days': 7,                    # length of the 公示 public notice
    'min_judges': 2,                     # scores needed before the union decides
    'quotas': {'learning_team': 20, 'excellent_team': 8, 'model_team': 3},
    'innovation_release_date': None,     # 'YYYY-MM-DD'; None means 1 November of the result's year
    'review_due_days': 7,                # a submission waiting longer is overdue
    'rubric': [
        {'code': 'organisation', 'zh': '组织领导', 'en': 'Organisation', 'max': 20},
        {'code': 'learning', 'zh': '学习培训', 'en': 'Learning and training', 'max': 30},
        {'code': 'innovation', 'zh': '创新成果', 'en': 'Innovation results', 'max': 30},
        {'code': 'atmosphere', 'zh': '学习氛围', 'en': 'Learning atmosphere', 'max': 20},
    ],
    # A tier needs the stage reached, or the lower title won in an earlier year.
    'eligibility': {
        'learning_team': {'stage': 'popularization', 'or_title': None},
        'excellent_team': {'stage': 'consolidation', 'or_title': 'learning_team'},
        'model_team': {'stage': 'innovation', 'or_title': 'excellent_team'},
    },
}

TIER_LABELS = {
    'learning_team': {'zh': '学习型班组', 'en': 'Learning team'},
    'excellent_team': {'zh': '学习型优胜班组', 'en': 'Excellent learning team'},
    'model_team': {'zh': '学习型标兵班组', 'en': 'Model learning team'},
}

TOPIC_LABELS = {
    'management': {'zh': '管理', 'en': 'Management'},
    'quality': {'zh': '质量', 'en': 'Quality'},
    'cost': {'zh': '成本', 'en': 'Cost'},
    'efficiency': {'zh': '工效', 'en': 'Efficiency'},
}


def campaign_setting(campaign_settings, key):
    value = (campaign_settings or {}).get(key)
    return DEFAULT_SETTINGS.get(key) if value is None else value

"""The campaign's stages, in order, and their default participation targets (percent of teams)."""

STAGES = ('popularization', 'consolidation', 'innovation')

STAGE_LABELS = {
    'popularization': {'zh': '普及阶段', 'en': 'Popularization'},
    'consolidation': {'zh': '巩固提高阶段', 'en': 'Consolidation'},
    'innovation': {'zh': '创新发展阶段', 'en': 'Innovation'},
}

DEFAULT_TARGETS = {'popularization': 50, 'consolidation': 80}


def stage_index(stage):
    return STAGES.index(stage) if stage in STAGES else -1


def next_stage(stage):
    i = stage_index(stage)
    return STAGES[i + 1] if 0 <= i < len(STAGES) - 1 else None

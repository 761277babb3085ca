"""The engine has one front door: web/, the command line and bench/ import `engine` itself, never one of its
rooms (docs/ARCHITECTURE.md); definitions import nothing from the engine, models or web."""
import ast
import os

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def imports(folder):
    """(file, imported module) for every import in the .py files under `folder`."""
    for base, _, names in os.walk(os.path.join(ROOT, folder)):
        for name in names:
            if name.endswith('.py'):
                path = os.path.join(base, name)
                with open(path, encoding='utf-8') as f:
                    tree = ast.parse(f.read(), path)
                for node in ast.walk(tree):
                    if isinstance(node, ast.Import):
                        yield from ((os.path.relpath(path, ROOT), alias.name) for alias in node.names)
                    elif isinstance(node, ast.ImportFrom) and node.level == 0:
                        yield os.path.relpath(path, ROOT), node.module


@pytest.mark.parametrize('folder', ['web', 'cli', 'bench'])
def test_adapters_use_only_the_front_door(folder):
    if not os.path.isdir(os.path.join(ROOT, folder)):
        pytest.skip(f'no {folder}/')
    inside = sorted({(path, module) for path, module in imports(folder) if module.startswith('engine.')})
    assert inside == []


def test_definitions_are_data():
    outside = sorted({(path, module) for path, module in imports('workflows')
                      if module.split('.')[0] in ('engine', 'models', 'web', 'flask', 'peewee')})
    assert outside == []


def test_the_front_door_offers_what_the_adapters_use():
    import engine
    for path, module in imports('web'):
        assert module == 'engine' or not module.startswith('engine'), path
    assert callable(engine.fire) and callable(engine.create) and hasattr(engine.audit, 'verify')

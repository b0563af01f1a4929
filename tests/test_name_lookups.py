"""No method, model or dataset name is looked up outside the code that defines it: the facts of a
method, a model or a dataset live on its descriptor (``Method``, ``ModelEntry``, the dataset
table), so a new one brings its facts along instead of needing a table keyed on its name."""

import ast

from jgattr import _names
from tests.conftest import REPO

# Where the names are defined: the method factories and registry, the models (and the layer
# chains, whose step kinds share the architecture names), the loaders, the name lists.
DEFINING = (
    "attribution/_gradients.py",
    "attribution/_lid.py",
    "attribution/_cam.py",
    "attribution/_excitation.py",
    "attribution/_gnn_explainer.py",
    "attribution/_joint_ig.py",
    "attribution/_methods.py",
    "models/",
    "interop/",
    "data/",
    "_names.py",
    "_dataset_table.py",
)
NAMES = {*_names.METHOD_NAMES, *_names.METHOD_ALIASES, *_names.ARCHITECTURES}
DATASETS = {name.lower() for name in _names.DATASET_NAMES}  # case-insensitive names


def _constants(node: ast.AST) -> list[str]:
    """String constants of a compared value (also inside a literal tuple, list or set)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return [node.value]
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return [c for element in node.elts for c in _constants(element)]
    return []


def _looked_up(tree: ast.AST) -> list[tuple[int, str]]:
    """(line, name) of every name compared with ``==``/``in``, used as a dict key, or matched
    with ``startswith``/``endswith``."""
    found = []
    for node in ast.walk(tree):
        values: list[ast.AST] = []
        if isinstance(node, ast.Compare):
            values = [node.left, *node.comparators]
        elif isinstance(node, ast.Dict):
            values = [key for key in node.keys if key is not None]
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", "") in (
            "startswith",
            "endswith",
        ):
            values = list(node.args)
        found += [
            (node.lineno, c)
            for v in values
            for c in _constants(v)
            if c in NAMES or c.lower() in DATASETS
        ]
    return found


def test_no_name_is_looked_up_outside_its_definition():
    offending = []
    for file in sorted((REPO / "jgattr").rglob("*.py")):
        relative = file.relative_to(REPO / "jgattr").as_posix()
        if relative.startswith(DEFINING):
            continue
        for line, name in _looked_up(ast.parse(file.read_text())):
            offending.append(f"jgattr/{relative}:{line} {name!r}")
    assert not offending, offending


def test_the_check_finds_a_lookup():
    tree = ast.parse('UNITS = {"nam": "logit"}\nif name.startswith("edge_saliency"): pass')
    assert _looked_up(tree) == [(1, "nam"), (2, "edge_saliency")]

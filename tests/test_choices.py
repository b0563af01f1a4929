"""Choices and names are defined once: the CLI, the config, the engine and the metrics import
them from jgattr._names, and the top-level package's three lists of its names agree."""

import ast

import pytest

import jgattr
from jgattr import _config, _names, cli
from tests.conftest import REPO


def test_every_choice_is_one_object_everywhere():
    from jgattr.attribution import CLASS_CHOICES, PATHS, TARGET_SETS
    from jgattr.metrics import MODES

    assert cli.TARGET_SETS is _config.TARGET_SETS is TARGET_SETS is _names.TARGET_SETS
    assert cli.CLASS_CHOICES is _config.CLASS_CHOICES is CLASS_CHOICES is _names.CLASS_CHOICES
    assert cli.PATHS is _config.PATHS is PATHS is _names.PATHS
    assert cli.MODES is MODES is _names.MODES
    assert set(_names.SPLITS) == set(TARGET_SETS) - {"all"}


def test_a_wrong_evaluate_mode_is_named_with_a_suggestion():
    with pytest.raises(ValueError, match=r"\[evaluate\] mode .* got 'zeros' \(did you mean 'zero'"):
        _config.EvaluateConfig(mode="zeros")


def _type_checking_imports() -> dict[str, str]:
    """name -> module of the imports under ``if TYPE_CHECKING:`` in jgattr/__init__.py."""
    tree = ast.parse((REPO / "jgattr" / "__init__.py").read_text())
    block = next(
        node
        for node in tree.body
        if isinstance(node, ast.If) and getattr(node.test, "id", None) == "TYPE_CHECKING"
    )
    return {
        alias.name: statement.module
        for statement in block.body
        if isinstance(statement, ast.ImportFrom)
        for alias in statement.names
    }


def test_the_top_level_lists_of_names_agree():
    """``__all__``, the lazy ``_EXPORTS`` and what static checkers see (``TYPE_CHECKING``)."""
    assert sorted(jgattr.__all__) == sorted(jgattr._EXPORTS)
    assert _type_checking_imports() == jgattr._EXPORTS

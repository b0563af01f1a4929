"""Where a prediction comes from: the quantity, the nodes' share and the rest (jobs/_budget.py)."""

import json

import numpy as np

from jgattr.attribution import integrated_gradients, nam, saliency, sig_lid_ig
from jgattr.jobs._budget import (
    budget_line,
    budget_sentence,
    budget_table,
    budgets_of,
    prediction_budget,
)


class _Result:
    """The part of ``Attributions`` that ``budgets_of`` reads: one target."""

    def __init__(self, values, expected, explained=2):
        self.values, self.expected, self.classes = np.asarray(values), [expected], [explained]

    def for_target(self, index):
        return np.arange(self.values.size), self.values


def test_nam_rest_is_the_biases_and_dominates_for_ba_shapes_node_408():
    """The issue's numbers: NAM values sum to −111.8 while the logit is +4.09."""
    budget = prediction_budget(nam(), np.array([-60.0, -51.8]), 4.09, 0.79)
    assert abs(budget.rest - 115.89) < 1e-9
    assert budget.rest_dominates and budget.gap is None
    assert budget_line(budget) == "logit +4.09 = nodes −111.8 + biases +115.9"
    sentence = budget_sentence(budget)
    assert sentence.startswith("nam: the rest (biases, +115.9) outweighs the nodes' sum (−111.8)")


def test_ig_rest_splits_into_the_baseline_value_and_the_completeness_gap():
    logits = np.array([0.0, 1.0, 4.0])
    ig = _Result([-5.0, -3.6], expected=-8.5)  # Σ = −8.6: gap = expected − Σ = +0.1
    sig = _Result([-0.1, -0.05], expected=-0.2)
    methods = [integrated_gradients(), sig_lid_ig()]
    budgets = budgets_of(methods, {"integrated_gradients": ig, "sig_lid_ig": sig}, logits)
    b = budgets["integrated_gradients"]
    assert (b.value, round(b.nodes, 6), round(b.gap, 6)) == (4.0, -8.6, 0.1)
    assert budget_line(b) == "logit +4 = nodes −8.6 + baseline f(X̂) +12.5 + gap +0.1"
    p = np.exp(4.0) / np.exp(logits).sum()
    s = budgets["sig_lid_ig"]
    assert abs(s.value - p) < 1e-12 and abs(s.rest - (p + 0.15)) < 1e-12
    assert s.rest_is == "baseline p(X̂)" and s.rest_dominates


def test_magnitudes_have_no_rest_and_a_small_rest_no_sentence():
    magnitude = prediction_budget(saliency(), np.array([1.0, 2.0]), 4.0, 0.9)
    assert magnitude.rest is None and not magnitude.rest_dominates
    assert budget_line(magnitude) == "logit +4; scores are magnitudes, not shares of it"
    small = prediction_budget(nam(), np.array([3.0, 0.5]), 4.0, 0.9)
    assert not small.rest_dominates and budget_sentence(small) is None


def test_report_table_reads_the_niv_record(tmp_path):
    budgets = [
        prediction_budget(nam(), np.array([-111.8]), 4.091, 0.79).as_dict(),
        prediction_budget(saliency(), np.array([5.0]), 4.091, 0.79).as_dict(),
    ]
    record = tmp_path / "niv_408.json"
    record.write_text(json.dumps({"node": 408, "class": 3, "budgets": budgets}))
    lines = budget_table(record)
    assert "| nam | logit | +4.091 | −111.8 | +115.9 | biases | — |" in lines
    assert "| saliency | logit | +4.091 | +5 | — | — (magnitudes, not shares) | — |" in lines
    assert sum(line.startswith("- nam: the rest (biases, +115.9)") for line in lines) == 1
    assert budget_table(tmp_path / "missing.json") == []

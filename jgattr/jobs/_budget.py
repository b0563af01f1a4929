"""Where a prediction comes from: the explained quantity, the nodes' share of it and the rest.

Node relevances add up to part of what a method decomposes (docs/math.md, section 3): NAM's sum
plus the biases' share is the logit; IG's sum is f(X) − f(X̂), so the baseline's own value
f(X̂) is the rest; the LID family conserves Δlogit or Δp the same way. When the rest outweighs
the nodes, a node's sign says how it moves the prediction away from the rest, not what carries
it: for BA-Shapes node 408 the NAM values sum to −111.8 while the logit is +4.09. The figures
and ``report.md`` show the three numbers so that a reader sees this.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from jgattr.attribution import Method


@dataclass(frozen=True)
class Budget:
    """One method's account of one target: ``value = nodes + rest``.

    Attributes:
      method: the method's name.
      quantity: ``"logit"`` or ``"probability"`` (of the explained class).
      value: the quantity at the target, f(X).
      nodes: Σ of the target's node relevances.
      rest: ``value − nodes``; ``None`` when the relevances are not a share of ``value``
        (magnitudes: saliency, GNNExplainer's masks).
      rest_is: what the rest is made of (``"biases"``, ``"baseline f(X̂)"``, ...).
      gap: the part of the rest that is the method's completeness or conservation gap,
        ``expected − nodes`` (quadrature or sampling error); ``None`` without such an identity.
    """

    method: str
    quantity: str
    value: float
    nodes: float
    rest: float | None
    rest_is: str
    gap: float | None = None

    @property
    def rest_dominates(self) -> bool:
        """The rest is larger in magnitude than the nodes' sum."""
        return self.rest is not None and abs(self.rest) > abs(self.nodes)

    def as_dict(self) -> dict:
        return asdict(self) | {"rest_dominates": self.rest_dominates}


def prediction_budget(
    method: Method,
    values: np.ndarray,
    logit: float,
    probability: float,
    expected: float = float("nan"),
) -> Budget:
    """The budget of one target for ``method``, whose relevances ``values`` are in ``unit``.

    Args:
      method: the method; its ``unit`` says what the relevances are (``"logit"`` or
        ``"probability"`` split that quantity; anything else, a gradient or a mask, is a
        magnitude) and its ``rest_is`` what the rest is made of.
      values: ``[n]`` the target's node relevances.
      logit: the target's logit for the explained class.
      probability: its softmax probability.
      expected: what the relevances should sum to (``Attributions.expected``; NaN if nothing):
        the rest is then the baseline's value ``value − expected`` plus the gap.

    Example:
      >>> round(prediction_budget(nam(), np.array([-60.0, -51.8]), 4.09, 0.98).rest, 2)
      115.89
    """
    nodes = float(np.sum(values))
    if method.is_share:
        value = logit if method.unit == "logit" else probability
        gap = float(expected) - nodes if np.isfinite(expected) else None
        rest_is = method.rest_is or "the rest"
        return Budget(method.name, method.unit, value, nodes, value - nodes, rest_is, gap)
    return Budget(method.name, "logit", logit, nodes, None, "")


def budget_line(budget: Budget, sep: str = " ") -> str:
    """``"logit +4.091 = nodes −111.8 + biases +115.9"`` (or the logit alone for magnitudes);
    ``sep`` goes before the gap term (``"\\n"`` in a figure)."""
    if budget.rest is None:
        return f"logit {_num(budget.value)}; scores are magnitudes, not shares of it"
    if budget.gap is None:
        rest = f"{budget.rest_is} {_num(budget.rest)}"
    else:  # the rest is the baseline's value and the method's gap, on a line of its own
        rest = f"{budget.rest_is} {_num(budget.rest - budget.gap)}{sep}+ gap {_num(budget.gap)}"
    return f"{budget.quantity} {_num(budget.value)} = nodes {_num(budget.nodes)} + {rest}"


def budget_sentence(budget: Budget) -> str | None:
    """One sentence when the rest dominates, else ``None``."""
    if not budget.rest_dominates:
        return None
    return (
        f"{budget.method}: the rest ({budget.rest_is}, {_num(budget.rest)}) outweighs the nodes' "
        f"sum ({_num(budget.nodes)}), so the {budget.quantity} {_num(budget.value)} comes mostly "
        f"from the rest; a node's sign says how it moves the {budget.quantity} from there, not "
        "what carries the prediction."
    )


def budgets_of(
    methods: Sequence[Method],
    results: Mapping[str, Any],
    logits: np.ndarray,
    index: int = 0,
) -> dict[str, Budget]:
    """Every method's budget for target number ``index`` of its result in ``results`` (name ->
    ``Attributions``), whose whole-graph logits are ``[C]``."""
    budgets = {}
    for method in methods:
        name, result = method.name, results[method.name]
        explained = int(result.classes[index])
        shifted = np.exp(logits - logits.max())
        probability = float(shifted[explained] / shifted.sum())
        values, expected = result.for_target(index)[1], float(result.expected[index])
        logit = float(logits[explained])
        budgets[name] = prediction_budget(method, values, logit, probability, expected)
    return budgets


def budget_table(record: Path) -> list[str]:
    """Markdown lines of a ``niv_<node>.json``: per method, the explained quantity at the target,
    the nodes' sum and the rest, then a sentence per method whose rest dominates; none if the
    file is missing or unreadable (a run folder from an older jgattr)."""
    try:
        budgets = [Budget(**_fields(b)) for b in json.loads(record.read_text())["budgets"]]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    lines = [
        "Where the prediction comes from: node relevances add up to part of the explained "
        "quantity, the rest is what no node carries (biases; for IG and the LID family the "
        "baseline's own value, as their completeness says: docs/math.md, plus the method's "
        "quadrature or sampling gap).",
        "",
        "| method | quantity | at the target | Σ node relevances | rest | rest is | of which gap |",
        "|---|---|---|---|---|---|---|",
    ]
    for b in budgets:
        rest, gap = ("—" if x is None else _num(x) for x in (b.rest, b.gap))
        kind = b.rest_is or "— (magnitudes, not shares)"
        lines.append(
            f"| {b.method} | {b.quantity} | {_num(b.value)} | {_num(b.nodes)} | {rest} | {kind} | "
            f"{gap} |"
        )
    sentences = [s for s in map(budget_sentence, budgets) if s]
    return [*lines, "", *(f"- {s}" for s in sentences), *([""] if sentences else [])]


def _fields(record: dict) -> dict:
    names = ("method", "quantity", "value", "nodes", "rest", "rest_is", "gap")
    return {k: record.get(k) for k in names}


def _num(value: float) -> str:
    """Signed, 4 significant digits, a real minus sign."""
    return f"{value:+.4g}".replace("-", "−")

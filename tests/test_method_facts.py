"""Every registered method declares its facts (unit, sign, level, partner, rest), and the jobs
read them from the method: a new method cannot silently lose them, and the facts are true."""

import jax.numpy as jnp
import numpy as np
import pytest

from jgattr.attribution import METHODS, Method, explain, get_method, integrated_gradients
from tests.attribution_helpers import random_gcn, random_graph


@pytest.mark.parametrize("name", sorted(METHODS))
def test_every_method_declares_its_facts(name):
    method = get_method(name)
    assert method.name == name
    assert method.level in ("node", "edge")
    assert isinstance(method.unit, str) and method.unit
    assert isinstance(method.signed, bool)
    if method.is_share:  # shares of the logit or probability: the rest is named, and signed
        assert method.rest_is and method.signed
    else:
        assert method.rest_is is None
    if method.partner is not None:  # the same computation's other level, and back
        partner = get_method(method.partner)
        assert {method.level, partner.level} == {"node", "edge"}
        assert partner.partner == name


def test_facts_follow_the_settings():
    assert integrated_gradients(output="probability").unit == "probability"
    assert integrated_gradients(output="probability").rest_is == "baseline p(X̂)"
    assert get_method("ig").rest_is == "baseline f(X̂)"
    joint = get_method("node_and_edge_ig_nodes", output="probability")
    assert (joint.unit, joint.partner) == (
        "probability",
        "node_and_edge_integrated_gradients_edges",
    )
    assert not get_method("saliency").signed and get_method("saliency", absolute=False).signed
    assert get_method("gnn_explainer").partner == "gnn_explainer_nodes"


def test_a_method_without_its_facts_cannot_be_made():
    attribute = get_method("nam").attribute
    with pytest.raises(TypeError, match="unit"):
        Method("mine", (), attribute, None, signed=True)  # type: ignore[call-arg]
    with pytest.raises(ValueError, match="unit must say"):
        Method("mine", (), attribute, None, unit="", signed=True)
    with pytest.raises(ValueError, match="level must be one of"):
        Method("mine", (), attribute, None, level="feature", unit="logit", signed=True)


UNSIGNED_ON_NODES = [  # the unsigned methods that explain node targets (CAM family: graphs)
    get_method("saliency"),
    get_method("edge_saliency"),
    get_method("contrastive_gradient"),
    get_method("contrastive_eb"),
]
MASKS = [  # GNNExplainer's: slow to compile, checked by the slow test below (pytest -m slow)
    get_method("gnn_explainer", epochs=3),
    get_method("gnn_explainer_nodes", epochs=3, node_mask_type="object"),
]


def _results(methods):
    graph = random_graph(seed=4, dtype=np.float32)
    model, params = random_gcn(2, graph, seed=5, dtype=jnp.float32)
    return explain(model, params, graph, methods=methods, targets=np.arange(6))


def test_unsigned_methods_give_no_negative_value():
    """``signed=False`` is a fact: on a random GCN whose signed methods do go negative."""
    assert {m.name for m in UNSIGNED_ON_NODES + MASKS} == {
        n for n in METHODS if not get_method(n).signed
    } - {"cam", "grad_cam", "grad_cam_avg"}
    results = _results([*UNSIGNED_ON_NODES, "nam", "eb"])
    for method in UNSIGNED_ON_NODES:
        assert np.min(results[method.name].values) >= 0.0, method.name
    for signed in ("nam", "excitation_backprop"):  # signed methods do go negative here
        assert np.min(results[signed].values) < 0.0


@pytest.mark.slow
def test_gnn_explainer_masks_are_never_negative():
    results = _results(MASKS)
    for method in MASKS:
        assert np.min(results[method.name].values) >= 0.0, method.name

"""Attribution engine and methods: every target of a graph explained in one run."""

from jgattr.attribution._blocks import target_walks
from jgattr.attribution._cache import cache_info, clear_caches
from jgattr.attribution._cam import cam, contrastive_gradient, grad_cam, grad_cam_avg
from jgattr.attribution._completeness import CompletenessWarning
from jgattr.attribution._engine import PATHS, explain
from jgattr.attribution._estimate import ResourceError, ResourceEstimate, estimate_explain
from jgattr.attribution._excitation import contrastive_eb, excitation_backprop
from jgattr.attribution._execute import compilation_count
from jgattr.attribution._gnn_explainer import gnn_explainer
from jgattr.attribution._gradients import (
    edge_integrated_gradients,
    edge_saliency,
    integrated_gradients,
    nam,
    saliency,
)
from jgattr.attribution._joint_ig import node_and_edge_integrated_gradients
from jgattr.attribution._lid import lid_ig, lid_taylor, sig_lid_ig, sig_lid_taylor, st_lid_taylor
from jgattr.attribution._linearize import exact_relu_average
from jgattr.attribution._method_types import Method
from jgattr.attribution._methods import METHODS, get_method
from jgattr.attribution._prepare import CLASS_CHOICES, TARGET_SETS, PreparedGraph, prepare_data
from jgattr.attribution._quadrature import QUADRATURES, quadrature
from jgattr.attribution._results import Attributions
from jgattr.attribution._shards import ShardedAttributions, open_shards, result_complete
from jgattr.attribution._stream import explain_to_folder
from jgattr.attribution._subgraphs import InEdges, Union, computation_graphs, graph_unions
from jgattr.models import Explainable, as_explainable

__all__ = [
    "CLASS_CHOICES",
    "METHODS",
    "PATHS",
    "QUADRATURES",
    "TARGET_SETS",
    "Attributions",
    "CompletenessWarning",
    "Explainable",
    "InEdges",
    "Method",
    "PreparedGraph",
    "ResourceError",
    "ResourceEstimate",
    "ShardedAttributions",
    "Union",
    "as_explainable",
    "cache_info",
    "cam",
    "clear_caches",
    "compilation_count",
    "computation_graphs",
    "contrastive_eb",
    "contrastive_gradient",
    "edge_integrated_gradients",
    "edge_saliency",
    "estimate_explain",
    "exact_relu_average",
    "excitation_backprop",
    "explain",
    "explain_to_folder",
    "get_method",
    "gnn_explainer",
    "grad_cam",
    "grad_cam_avg",
    "graph_unions",
    "integrated_gradients",
    "lid_ig",
    "lid_taylor",
    "nam",
    "node_and_edge_integrated_gradients",
    "open_shards",
    "prepare_data",
    "quadrature",
    "result_complete",
    "saliency",
    "sig_lid_ig",
    "sig_lid_taylor",
    "st_lid_taylor",
    "target_walks",
]

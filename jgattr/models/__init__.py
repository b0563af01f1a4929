"""Graph neural network models over ``jraph.GraphsTuple`` and the protocol the engine sees."""

from jgattr.models._build import (
    ModelConfig,
    build_model,
    init_params,
    make_apply_fn,
    prepare_graph,
)
from jgattr.models._chain import (
    ACTIVATIONS,
    CONVOLUTIONS,
    STEP_KINDS,
    LayerChain,
    Step,
    graph_reading,
)
from jgattr.models._chain_builtin import builtin_equivalent
from jgattr.models._gat import GAT
from jgattr.models._gcn import GCN, GCNConv, gcn_edge_weights, gcn_normalize, propagate
from jgattr.models._gcn_concat import ConcatGCN
from jgattr.models._gin import GIN
from jgattr.models._graph_classifier import GraphClassifier
from jgattr.models._params import (
    ParamsError,
    check_params,
    describe_params,
    param_template,
    params_mismatch,
)
from jgattr.models._protocol import (
    POOLS,
    ExcitationStep,
    Explainable,
    ExplainableModel,
    GraphReadout,
    WalkSum,
    as_explainable,
)
from jgattr.models._registry import ARCHITECTURES, MODELS, ModelEntry
from jgattr.models._sage import GraphSAGE, mean_edge_weights

__all__ = [
    "ACTIVATIONS",
    "ARCHITECTURES",
    "CONVOLUTIONS",
    "GAT",
    "GCN",
    "GIN",
    "MODELS",
    "POOLS",
    "STEP_KINDS",
    "ConcatGCN",
    "ExcitationStep",
    "Explainable",
    "ExplainableModel",
    "GCNConv",
    "GraphClassifier",
    "GraphReadout",
    "GraphSAGE",
    "LayerChain",
    "ModelConfig",
    "ModelEntry",
    "ParamsError",
    "Step",
    "WalkSum",
    "as_explainable",
    "build_model",
    "builtin_equivalent",
    "check_params",
    "describe_params",
    "gcn_edge_weights",
    "gcn_normalize",
    "graph_reading",
    "init_params",
    "make_apply_fn",
    "mean_edge_weights",
    "param_template",
    "params_mismatch",
    "prepare_graph",
    "propagate",
]

"""Graph neural network models over ``jraph.GraphsTuple`` and the protocol the engine sees."""

from jgattr.models._build import (
    ARCHITECTURES,
    ModelConfig,
    build_model,
    init_params,
    make_apply_fn,
    prepare_graph,
)
from jgattr.models._gat import GAT
from jgattr.models._gcn import GCN, GCNConv, gcn_edge_weights, gcn_normalize, propagate
from jgattr.models._gin import GIN
from jgattr.models._graph_classifier import GraphClassifier
from jgattr.models._protocol import (
    POOLS,
    ExcitationStep,
    Explainable,
    ExplainableModel,
    GraphReadout,
    WalkSum,
    as_explainable,
)
from jgattr.models._sage import GraphSAGE, mean_edge_weights

__all__ = [
    "ARCHITECTURES",
    "GAT",
    "GCN",
    "GIN",
    "POOLS",
    "ExcitationStep",
    "Explainable",
    "ExplainableModel",
    "GCNConv",
    "GraphClassifier",
    "GraphReadout",
    "GraphSAGE",
    "ModelConfig",
    "WalkSum",
    "as_explainable",
    "build_model",
    "gcn_edge_weights",
    "gcn_normalize",
    "init_params",
    "make_apply_fn",
    "mean_edge_weights",
    "prepare_graph",
    "propagate",
]

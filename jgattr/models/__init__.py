"""Graph neural network models over ``jraph.GraphsTuple``."""

from jgattr.models._gcn import (
    ARCHITECTURES,
    GCN,
    GCNConv,
    ModelConfig,
    build_model,
    gcn_convolutions,
    gcn_normalize,
    init_params,
    make_apply_fn,
    propagate,
)

__all__ = [
    "ARCHITECTURES",
    "GCN",
    "GCNConv",
    "ModelConfig",
    "build_model",
    "gcn_convolutions",
    "gcn_normalize",
    "init_params",
    "make_apply_fn",
    "propagate",
]

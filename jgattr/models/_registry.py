"""The built-in node models by architecture name (the ``[model] architecture`` of a config)."""

from jgattr.models._gat import GAT
from jgattr.models._gcn import GCN
from jgattr.models._gcn_concat import ConcatGCN
from jgattr.models._gin import GIN
from jgattr.models._sage import GraphSAGE

NODE_MODELS = {
    "gcn": GCN,
    "gat": GAT,
    "gin": GIN,
    "sage": GraphSAGE,
    "gcn_concat": ConcatGCN,
}
ARCHITECTURES = tuple(NODE_MODELS)  # the same as jgattr._names.ARCHITECTURES (a test checks)

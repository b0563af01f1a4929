"""Graph classification: K message-passing layers of any built-in architecture, a readout that
pools each graph's nodes (mean as in Pope et al., sum or max) and a linear head.

``logits[g] = pool_{n ∈ g} ReLU(Hᴷ[n]) · W + b``. The node layers are the built-in node model
with the embedding width as its last layer, so everything the engine knows about that
architecture (P-space inputs, layers, edge weights) carries over; the readout is the
:class:`~jgattr.models.GraphReadout` hook.

Pope et al.'s molecule model is ``GraphClassifier(2, "gcn", (128, 256, 512), "mean")``.
"""

import functools

import flax.linen as nn
import jax
import jraph

from jgattr._types import Array, Params
from jgattr.models._layered import Parameters, dense
from jgattr.models._protocol import Explainable, GraphReadout, through_layers
from jgattr.models._registry import MODELS, node_model


def _encoder(
    architecture: str, hidden_sizes: tuple[int, ...], dropout: float, heads: int, **module
):
    """The node model whose K layers have widths ``hidden_sizes`` (the last: the embedding)."""
    return node_model(
        architecture,
        {"heads": heads},
        num_classes=hidden_sizes[-1],
        hidden_size=tuple(hidden_sizes[:-1]),
        num_layers=len(hidden_sizes),
        dropout_rate=dropout,
        **module,
    )


class GraphClassifier(nn.Module):
    """One row of logits per graph of a batch (``graph.n_node`` graphs of consecutive nodes).

    Attributes:
      num_classes: width of the logits.
      architecture: ``gcn``, ``gat``, ``gin`` or ``sage``: the message-passing layers.
      hidden_sizes: the width of each of the K layers; the last is the node embedding width.
      readout: ``"mean"``, ``"sum"`` or ``"max"`` over each graph's nodes.
      dropout_rate: dropout on every layer's input while training.
      heads: GAT only: heads of the hidden layers.

    References:
      Pope, Kolouri, Rostami, Martin & Hoffmann, Explainability Methods for Graph Convolutional
      Neural Networks, CVPR 2019 (GCN 128-256-512, global average pooling, dense head).
    """

    num_classes: int
    architecture: str = "gcn"
    hidden_sizes: tuple[int, ...] = (64, 64, 64)
    readout: str = "mean"
    dropout_rate: float = 0.0
    heads: int = 4

    @property
    def num_layers(self) -> int:
        """K, the number of message-passing layers."""
        return len(self.hidden_sizes)

    @nn.compact
    def __call__(self, graph: jraph.GraphsTuple, *, deterministic: bool = True) -> Array:
        """Logits ``[G, num_classes]`` of a prepared batch of ``G`` graphs."""
        encoder = _encoder(
            self.architecture,
            tuple(self.hidden_sizes),
            self.dropout_rate,
            self.heads,
            name="encoder",
        )
        h = _embedding(encoder(graph, deterministic=deterministic))
        h = nn.Dropout(self.dropout_rate)(h, deterministic=deterministic)
        Parameters(dense(self.hidden_sizes[-1], self.num_classes), name="head")()
        readout = GraphReadout(self.readout, _head)
        return readout.logits(self.variables["params"], h, graph.n_node)

    @nn.nowrap
    def explainable(self) -> Explainable:
        """This classifier as the engine sees it (cached per hyperparameters)."""
        return _graph_explainable(
            self.num_classes, self.architecture, tuple(self.hidden_sizes), self.readout, self.heads
        )


def _embedding(h: Array) -> Array:
    """The node embeddings the readout pools: the encoder's last layer, then ReLU."""
    return jax.nn.relu(h)


def _head(params: Params) -> tuple[Array, Array]:
    return params["head"]["kernel"], params["head"]["bias"]


@functools.lru_cache(maxsize=64)
def _graph_explainable(
    num_classes: int, architecture: str, hidden_sizes: tuple[int, ...], readout: str, heads: int
) -> Explainable:
    model = GraphClassifier(num_classes, architecture, hidden_sizes, readout, 0.0, heads)
    node = _encoder(architecture, hidden_sizes, 0.0, heads).explainable()
    graph_readout = GraphReadout(readout, _head)
    display = MODELS[architecture].display_name

    def layers(params: Params, graph: jraph.GraphsTuple) -> tuple:
        encoder_layers = node.layers(params["encoder"], graph)
        last = encoder_layers[-1]
        return (*encoder_layers[:-1], lambda h: _embedding(last(h)))

    embed = through_layers(layers)
    excitation = None
    if node.excitation_layers is not None:
        excitation = lambda params, graph: node.excitation_layers(params["encoder"], graph)
    return Explainable(
        apply=lambda params, graph: model.apply({"params": params}, graph, deterministic=True),
        num_layers=len(hidden_sizes),
        name=f"{display} graph classifier (K={len(hidden_sizes)}, {readout} readout)",
        edge_weights=node.edge_weights,
        self_loops=node.self_loops,
        input_kernel=lambda params: node.input_kernel(params["encoder"]),
        apply_projected=lambda params, graph: graph_readout.logits(
            params, embed(params, graph), graph.n_node
        ),
        layers=layers,
        prepare=node.prepare,
        graph_readout=graph_readout,
        excitation_layers=excitation,
    )

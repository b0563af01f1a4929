"""Plots of attributions: NIV neighbourhood figures, subgraph figures and deletion curves.

Every function takes numpy arrays and returns a :class:`matplotlib.figure.Figure` built with the
object-oriented API (no pyplot state, no window); matplotlib is imported only when a plot is drawn.
"""

from jgattr.viz._curves import curves_figure, save_figure
from jgattr.viz._graph_panels import graph_layout, graph_panels
from jgattr.viz._niv import niv_figure, niv_panel
from jgattr.viz._niv_input import niv_scores
from jgattr.viz._subgraph import subgraph_figure
from jgattr.viz._views import agreement_figure, grouped_bars_figure, influence_figure

__all__ = [
    "agreement_figure",
    "curves_figure",
    "graph_layout",
    "graph_panels",
    "grouped_bars_figure",
    "influence_figure",
    "niv_figure",
    "niv_panel",
    "niv_scores",
    "save_figure",
    "subgraph_figure",
]

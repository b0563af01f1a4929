"""Visual constants of the NIV figures (sizes, colours, marker styles) and the class colours."""

import math

RING = 1.0  # radius step per hop
WEDGE_CAP = math.pi  # the children of a non-target node spread over at most this angle
MIN_AREA = 30.0  # marker area in points² of a drawn top-k node with (near) zero relevance
MAX_AREA = 700.0  # marker area of the node with the largest |relevance| of the neighbourhood
TARGET_MIN_AREA = 450.0  # the target's star is never smaller than this
CONTEXT_AREA = 22.0  # grey dot: a node outside the top k drawn only to join others to the target
HALO_PAD = 8.0  # points added to a highlighted node's diameter for its halo
FONT_SIZE = 9.0  # every text of the figure is at least this size (points)
TITLE_SIZE = 11.0
FIGURE_WIDTH = 1600 / 150  # inches: 1600 px at save_figure's 150 dpi
PANEL_HEIGHT = 5.3  # inches per row of panels
SIZE_BY = ("relevance", "niv_score")
NEGATIVE_COLOUR = "#8b0000"
EDGE_COLOUR = "0.6"
CONTEXT_COLOUR = "0.82"
HALO_COLOUR = "#ffd92f"
HALO_EDGE = "#b8860b"
POSITIVE_STYLE = {"edgecolors": "black", "linewidths": 1.5, "linestyles": "solid"}
NEGATIVE_STYLE = {
    "edgecolors": NEGATIVE_COLOUR,
    "linewidths": 2.0,
    "linestyles": "--",
    "hatch": "///",
}
ZERO_STYLE = {"edgecolors": "0.4", "linewidths": 1.0, "linestyles": ":"}


def class_colour(k: int, n_classes: int) -> tuple[float, ...]:
    """Face colour of class ``k``: tab10 for up to 10 classes, else tab20 (cycled)."""
    from matplotlib import colormaps

    cmap = colormaps["tab10" if n_classes <= 10 else "tab20"]
    return cmap(k % cmap.N)

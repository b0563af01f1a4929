"""Attribution engine and methods: every target of a graph explained in one run."""

from jgattr.attribution._engine import (
    CLASS_CHOICES,
    PATHS,
    TARGET_SETS,
    Explainable,
    as_explainable,
    compilation_count,
    explain,
)
from jgattr.attribution._methods import (
    METHODS,
    Method,
    edge_integrated_gradients,
    edge_saliency,
    exact_relu_average,
    get_method,
    integrated_gradients,
    lid_ig,
    lid_taylor,
    nam,
    saliency,
    sig_lid_ig,
    sig_lid_taylor,
    st_lid_taylor,
)
from jgattr.attribution._quadrature import QUADRATURES, quadrature
from jgattr.attribution._results import Attributions

__all__ = [
    "CLASS_CHOICES",
    "METHODS",
    "PATHS",
    "QUADRATURES",
    "TARGET_SETS",
    "Attributions",
    "Explainable",
    "Method",
    "as_explainable",
    "compilation_count",
    "edge_integrated_gradients",
    "edge_saliency",
    "exact_relu_average",
    "explain",
    "get_method",
    "integrated_gradients",
    "lid_ig",
    "lid_taylor",
    "nam",
    "quadrature",
    "saliency",
    "sig_lid_ig",
    "sig_lid_taylor",
    "st_lid_taylor",
]

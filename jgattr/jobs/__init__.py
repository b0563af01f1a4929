"""The jobs behind the CLI (train, explain, evaluate, niv, subgraph, report), each writing into
a run folder.

Library code (data, models, attribution, metrics, viz) knows nothing of run folders or configs;
the jobs glue a :class:`~jgattr.Config` to it and write the result files.
"""

from jgattr.jobs._evaluate import evaluate_run
from jgattr.jobs._explain import configured_methods, explain_and_save, explain_fits
from jgattr.jobs._graph_figure import graph_figure_run
from jgattr.jobs._niv import niv_run
from jgattr.jobs._report import write_report
from jgattr.jobs._subgraph import subgraph_run
from jgattr.jobs._train import load_configured_dataset, reusable_training, train_and_save

__all__ = [
    "configured_methods",
    "evaluate_run",
    "explain_and_save",
    "explain_fits",
    "graph_figure_run",
    "load_configured_dataset",
    "niv_run",
    "reusable_training",
    "subgraph_run",
    "train_and_save",
    "write_report",
]

"""The ``explain`` job: attributions of the configured targets, written into a run folder."""

import os
from pathlib import Path
from typing import Any

import numpy as np

from jgattr._checkpoint import checkpoint_path, load_checkpoint
from jgattr._config import Config, ExplainConfig
from jgattr._io import atomic_write_json
from jgattr.attribution import Method, explain, get_method
from jgattr.jobs._train import load_configured_dataset


def configured_methods(config: ExplainConfig) -> list[Method]:
    """The methods of ``[explain]`` with the hyperparameters that apply to each."""
    shared = {"baseline": config.baseline}
    per_family = {
        "integrated_gradients": {
            "n_steps": config.n_steps,
            "quadrature_rule": config.quadrature,
            "output": config.output,
            **shared,
        },
        "lid": {"relu_average": config.relu_average, "n_samples": config.n_samples, **shared},
        "edge_integrated_gradients": {
            "n_steps": config.n_steps,
            "quadrature_rule": config.quadrature,
        },
    }
    methods = []
    for name in config.methods:
        key = get_method(name).name
        family = "lid" if "lid" in key else key
        methods.append(get_method(key, **per_family.get(family, {})))
    return methods


def _targets_spec(targets: str | tuple[int, ...]):
    return targets if isinstance(targets, str) else np.asarray(targets, dtype=np.int64)


def explain_and_save(
    config: Config,
    checkpoint: str | os.PathLike,
    out: str | os.PathLike,
    *,
    data_dir: str | os.PathLike | None = None,
    progress: bool | None = None,
) -> dict[str, Any]:
    """Explain the configured targets with the configured methods; write results into ``out``.

    Writes ``attributions_<method>.npz`` per method (see the README for the format) and
    ``explain.json``; an interrupted run resumes from ``out/parts``.

    Returns:
      The content of ``explain.json``.
    """
    out = Path(out)
    dataset = load_configured_dataset(config, data_dir=data_dir)
    trained = load_checkpoint(checkpoint, dataset=dataset.name)
    if trained.num_features != dataset.num_features:
        raise ValueError(
            f"checkpoint {checkpoint} expects {trained.num_features} features, dataset "
            f"{dataset.name} has {dataset.num_features}"
        )
    methods = configured_methods(config.explain)
    results = explain(
        trained.model,
        trained.params,
        dataset,
        methods=methods,
        targets=_targets_spec(config.explain.targets),
        classes=config.explain.classes,
        path=config.explain.path,
        memory_budget_mb=config.explain.memory_budget_mb,
        out_dir=out,
        progress=progress,
    )
    summary = {
        "dataset": dataset.name,
        "checkpoint": str(checkpoint_path(checkpoint)),
        "methods": {},
    }
    for name, result in results.items():
        file = result.save(out / f"attributions_{name}.npz")
        summary["methods"][name] = {**result.stats, "file": str(file)}
    atomic_write_json(out / "explain.json", summary)
    return summary

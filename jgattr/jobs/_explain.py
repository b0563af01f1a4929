"""The ``explain`` job: attributions of the configured targets, written into a run folder.

A run folder holds the attributions of one checkpoint for one target set: ``explain.json``
records both, and a later ``explain`` with other methods adds to it (methods are merged, never
dropped). Another target set or checkpoint is refused unless ``overwrite=True``.
"""

import inspect
import json
import os
import shutil
import warnings
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import jax
import numpy as np

from jgattr._config import Config, ConfigError, ExplainConfig
from jgattr._io import atomic_write_json, run_folder_lock
from jgattr.attribution import (
    METHODS,
    CompletenessWarning,
    Method,
    estimate_explain,
    explain,
    explain_to_folder,
    get_method,
    open_shards,
    result_complete,
)
from jgattr.data import Dataset
from jgattr.jobs._run_folder import (
    EXPLAIN_JSON,
    RunFolderConflict,
    discard_attributions,
    file_sha256,
    load_configured_dataset,
    load_trained,
    read_json,
    target_pool,
)


def _name(key: str, names: Mapping[str, str] | None) -> str:
    """How the user set ``[explain] key``: a CLI flag (``--targets``) or the config key."""
    return (names or {}).get(key, f"[explain] {key}")


def configured_methods(
    config: ExplainConfig, *, names: Mapping[str, str] | None = None
) -> list[Method]:
    """The methods of ``[explain]`` with the hyperparameters that apply to each.

    Raises:
      ConfigError: an unknown or repeated method; the message names ``names["methods"]`` (the
        CLI flag) or ``[explain] methods``.
    """
    shared = {
        "n_steps": config.n_steps,
        "quadrature_rule": config.quadrature,
        "output": config.output,
        "baseline": config.baseline,
        "relu_average": config.relu_average,
        "n_samples": config.n_samples,
    }
    per_method = _per_method_settings(config)
    methods = []
    for name in config.methods:
        try:
            key = get_method(name).name
        except ValueError as err:
            raise ConfigError(f"{_name('methods', names)}: {err}") from None
        if key in [m.name for m in methods]:
            raise ConfigError(
                f"{_name('methods', names)} names {key} twice ({list(config.methods)}): "
                "list each method once"
            )
        accepted = inspect.signature(METHODS[key]).parameters
        settings = {k: v for k, v in shared.items() if k in accepted} | per_method.get(key, {})
        try:
            methods.append(get_method(key, **settings))
        except ValueError as err:
            raise ConfigError(f"[explain] settings of {key}: {err}") from None
    return methods


def _per_method_settings(config: ExplainConfig) -> dict[str, dict[str, Any]]:
    """``[explain.per_method.<method>]`` tables by canonical method name, keys checked against
    each factory's own signature."""
    settings = {}
    for name, table in config.per_method.items():
        try:
            key = get_method(name).name
        except ValueError as err:
            raise ConfigError(f"[explain.per_method.{name}]: {err}") from None
        accepted = sorted(inspect.signature(METHODS[key]).parameters)
        unknown = sorted(set(table) - set(accepted))
        if unknown or not isinstance(table, dict):
            raise ConfigError(
                f"[explain.per_method.{name}] has unknown setting(s) {unknown}: {key} takes "
                f"{accepted}"
            )
        settings[key] = dict(table)
    return settings


def _check_targets(config: ExplainConfig, dataset: Dataset, num_classes: int, names) -> None:
    targets, classes = config.targets, config.classes
    if not isinstance(targets, str):
        kind, size = dataset.level, target_pool(dataset)
        bad = [t for t in targets if not 0 <= t < size]
        if bad:
            raise ConfigError(
                f"{_name('targets', names)} must be {kind} ids in [0, {size}) "
                f"({dataset.name} has {size} {kind}s), got {bad[0]}"
                + (f" and {len(bad) - 1} more outside it" if len(bad) > 1 else "")
            )
    if isinstance(classes, int) and not 0 <= classes < num_classes:
        raise ConfigError(
            f"{_name('classes', names)} must be predicted, true, all or a class id in "
            f"[0, {num_classes}) (the model has {num_classes} classes), got {classes}"
        )


def _describe(targets: Any) -> str:
    if isinstance(targets, str):
        return repr(targets)
    shown = ",".join(str(t) for t in targets[:6])
    return shown + (f",... ({len(targets)} ids)" if len(targets) > 6 else "")


def _identity(config: ExplainConfig, checkpoint_sha256: str) -> dict[str, Any]:
    targets = config.targets if isinstance(config.targets, str) else list(config.targets)
    return {"targets": targets, "classes": config.classes, "checkpoint_sha256": checkpoint_sha256}


def _previous(out: Path, identity: dict[str, Any], overwrite: bool) -> dict | None:
    """The ``explain.json`` to merge into; a conflict unless ``overwrite`` (then discarded)."""
    try:
        previous = read_json(out, EXPLAIN_JSON)
    except RunFolderConflict:
        if not overwrite:
            raise
        previous = None
    if previous is None:
        return None
    recorded = {key: previous.get(key) for key in identity}
    if recorded == identity:  # merge: keep the methods whose files are still there
        kept = previous.get("methods", {})
        kept = {n: s for n, s in kept.items() if result_complete(out / f"attributions_{n}")}
        return {**previous, "methods": kept}
    if overwrite:
        discard_attributions(out)
        return None
    asked = _describe_set(identity)
    if recorded["targets"] is None:
        what = "written by an older jgattr (no target set recorded)"
    elif recorded["checkpoint_sha256"] != identity["checkpoint_sha256"]:
        what = f"of another checkpoint (for {_describe_set(recorded)})"
    else:
        what = f"for {_describe_set(recorded)}"
    raise RunFolderConflict(
        f"{out} already holds attributions {what} ({out / EXPLAIN_JSON}); this run asks for "
        f"{asked}: write to another --out, or pass --overwrite to replace them"
    )


def _describe_set(identity: dict[str, Any]) -> str:
    return f"targets {_describe(identity['targets'])} with classes {identity['classes']!r}"


def _target_count(config: ExplainConfig, dataset: Dataset, num_classes: int) -> int:
    targets = config.targets
    if targets == "all":
        count = target_pool(dataset)
    elif isinstance(targets, str):
        count = int(np.count_nonzero(getattr(dataset, f"{targets}_mask")))
    else:
        count = len(targets)
    return count * (num_classes if config.classes == "all" else 1)


def _targets_spec(targets: str | tuple[int, ...]):
    return targets if isinstance(targets, str) else np.asarray(targets, dtype=np.int64)


def _finished(done: Mapping[str, dict], method: Method, config: ExplainConfig) -> bool:
    """Whether ``done`` (``explain.json``'s methods, of this target set and checkpoint, their
    files present) holds ``method`` with the same hyperparameters and a path ``config`` allows."""
    stats = done.get(method.name)
    if stats is None or config.path not in ("auto", stats.get("path")):
        return False
    wanted = json.loads(json.dumps(dict(method.hyperparameters), default=str))
    return stats.get("hyperparameters") == wanted


def job_explain(*args, log: Callable[[str], None] | None = None, **kwargs) -> dict:
    """:func:`~jgattr.attribution.explain` for a job (see :func:`_logging_completeness`)."""
    return _logging_completeness(explain, *args, log=log, **kwargs)


def _logging_completeness(run: Callable[..., dict], *args, log=None, **kwargs) -> dict:
    """``run(*args, **kwargs)`` where IG's :class:`CompletenessWarning` becomes a ``log`` line
    (the job's channel to the user; the report says it too), or nothing without ``log``
    (figures and metrics re-explain what the explain step already checked and logged); any
    other warning goes on as it came."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", CompletenessWarning)
        results = run(*args, **kwargs)
    for record in caught:
        if not issubclass(record.category, CompletenessWarning):
            warnings.warn_explicit(record.message, record.category, record.filename, record.lineno)
        elif log is not None:
            log(f"warning: {record.message}")
    return results


def explain_fits(config: Config, log: Callable[[str], None]) -> Callable[..., None]:
    """A check of ``(dataset, model[, params])`` before training or explaining: the configured
    explain job's estimate (:func:`jgattr.attribution.estimate_explain`, the largest of its
    methods), logged, and a :class:`~jgattr.attribution.ResourceError` when it exceeds
    ``[explain] max_host_mb``. ``params`` is needed for a model that is not a Flax module."""
    explain_config = config.explain

    def check(dataset, model, params=None) -> None:
        for method in configured_methods(explain_config):  # the CLI explains one at a time
            estimate = estimate_explain(
                model, dataset, methods=[method], targets=_targets_spec(explain_config.targets),
                classes=explain_config.classes, memory_budget_mb=explain_config.memory_budget_mb,
                max_host_mb=explain_config.max_host_mb, num_classes=dataset.num_classes,
                params=params, to_folder=True, top_k_sources=explain_config.top_k_sources,
            )  # fmt: skip
            log(f"{method.name}: {estimate.line()}")

    return check


def explain_and_save(
    config: Config,
    checkpoint: str | os.PathLike,
    out: str | os.PathLike,
    *,
    data_dir: str | os.PathLike | None = None,
    progress: bool | None = None,
    overwrite: bool = False,
    names: Mapping[str, str] | None = None,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Explain the configured targets with the configured methods; write results into ``out``.

    Writes one result folder ``attributions_<method>/`` per method
    (:func:`~jgattr.attribution.explain_to_folder`: one shard per block of targets, so any size
    streams to disk; read it with ``Attributions.load``) and ``explain.json`` after each method;
    an interrupted run resumes from its finished shards and the rounds in ``out/parts``. ``out`` is
    locked while the job writes to it (:func:`jgattr._io.run_folder_lock`).

    Args:
      config: the run's config (``[data]`` and ``[explain]`` are used).
      checkpoint: a run folder or checkpoint file.
      out: the run folder written to.
      data_dir: where the dataset files are.
      progress: passed to :func:`jgattr.attribution.explain`.
      overwrite: replace attributions of another target set or checkpoint in ``out`` (otherwise
        a :class:`RunFolderConflict`); results of the same ones are merged.
      names: how the user set each ``[explain]`` key, for error messages (``{"targets":
        "--targets"}``); default ``[explain] <key>``.
      log: called with one line when each method starts and ends.

    Returns:
      The content of ``explain.json``: dataset, checkpoint, its SHA-256, targets, classes and
      ``methods`` (stats and file of every method the folder holds); plus ``computed``, the
      methods this call computed (not in the file).
    """
    out, log = Path(out), log or (lambda line: None)
    with run_folder_lock(out, "jgattr explain"):
        dataset = load_configured_dataset(config, data_dir=data_dir)
        trained = load_trained(config, checkpoint, dataset)
        if trained.num_features != dataset.num_features:
            raise ValueError(
                f"checkpoint {checkpoint} expects {trained.num_features} features, dataset "
                f"{dataset.name} has {dataset.num_features}"
            )
        methods = configured_methods(config.explain, names=names)
        _check_targets(config.explain, dataset, trained.num_classes, names)
        explain_fits(config, log)(dataset, trained.model, trained.params)  # before --overwrite
        identity = _identity(config.explain, file_sha256(trained.file))
        summary = _previous(out, identity, overwrite) or {"methods": {}}
        summary |= {
            "dataset": dataset.name,
            "checkpoint": str(trained.file),
            **identity,
        }
        count = _target_count(config.explain, dataset, trained.num_classes)
        done = {} if overwrite else summary["methods"]  # --overwrite recomputes every method
        todo = [m for m in methods if not _finished(done, m, config.explain)]
        for method in methods:
            if method not in todo:
                log(f"{method.name}: kept from an earlier run ({out / EXPLAIN_JSON})")
                continue
            log(f"{method.name}: explaining {count} targets ...")
            if overwrite:  # recompute, not resume: its finished shards go too
                shutil.rmtree(out / f"attributions_{method.name}", ignore_errors=True)
            folder = _logging_completeness(
                explain_to_folder,
                trained.model,
                trained.params,
                dataset,
                out,
                methods=[method],
                targets=_targets_spec(config.explain.targets),
                classes=config.explain.classes,
                path=config.explain.path,
                memory_budget_mb=config.explain.memory_budget_mb,
                top_k_sources=config.explain.top_k_sources,
                max_host_mb=config.explain.max_host_mb,
                progress=progress,
                resume_rounds=True,
                log=log,
            )[method.name]
            stats = open_shards(folder).stats[jax.process_index()]
            summary["methods"][method.name] = {**stats, "file": str(folder)}
            atomic_write_json(out / EXPLAIN_JSON, summary)
            if stats.get("resumed_rounds"):
                log(
                    f"{method.name}: resumed {stats['resumed_rounds']} of {stats['rounds']} "
                    f"rounds from {out / 'parts'}"
                )
            log(f"{method.name}: done in {stats['seconds']} s ({stats['path']} path)")
        return {**summary, "computed": [m.name for m in todo]}

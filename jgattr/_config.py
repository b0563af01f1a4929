"""Run configuration: a TOML file read into frozen dataclasses, one table per section.

Unknown tables or keys and values of the wrong type are errors that name the file, the key and
what is expected, so a typo never silently falls back to a default.
"""

import dataclasses
import os
import tomllib
import types
import typing
from pathlib import Path
from typing import Any

from jgattr._model_config import ModelConfig
from jgattr._names import (
    ARCHITECTURES,
    CLASS_CHOICES,
    GNN_EXPLAINER_PRESETS,
    MODES,
    PATHS,
    PRESET_METHODS,
    TARGET_SETS,
    UNDIRECTED_ONLY,
    did_you_mean,
    method_key,
    shown,
    unknown_dataset,
    unknown_method,
)
from jgattr._train_config import TrainConfig


class ConfigError(ValueError):
    """A configuration file is missing, unreadable or holds an invalid value."""


@dataclasses.dataclass(frozen=True)
class DataConfig:
    """The ``[data]`` table.

    Attributes:
      name: a dataset name (``cora``, ``citeseer``, ``pubmed``, ``pubmed-structure``,
        ``ogbn-arxiv``, ``ogbn-products``, a synthetic benchmark such as ``ba-shapes``) or a path
        to a ``.npz`` graph; or a graph
        classification dataset (``ba-2motifs``, ``tu:MUTAG``, ``moleculenet:bbbp``, ...).
      normalize_features: row-normalize features (Kipf & Welling; node datasets).
      verify_checksums: refuse Planetoid files (or OGB zips) whose SHA-256 does not match.
      seed: seed of a generated graph dataset (BA-2Motifs) and of random graph splits.
      smiles_column: a local molecule ``.csv``: the column holding SMILES.
      label_column: a local molecule ``.csv``: the column holding the 0/1 label.
      directed: a ``.npz`` graph: keep one-way edges one-way instead of adding their reverse
        (for ``gat``, ``gin`` and ``sage``; docs/graphs.md).
    """

    name: str = "cora"
    normalize_features: bool = True
    verify_checksums: bool = True
    seed: int = 0
    smiles_column: str = ""
    label_column: str = ""
    directed: bool = False

    def __post_init__(self) -> None:
        problem = unknown_dataset(self.name) if isinstance(self.name, str) else None
        if problem is not None:
            raise ValueError(f"[data] name: {problem}")


@dataclasses.dataclass(frozen=True)
class ExplainConfig:
    """The ``[explain]`` table: which attributions ``jgattr explain`` and ``jgattr run`` compute.

    Attributes:
      methods: method names (see ``jgattr.attribution.METHODS``; ``ig`` = integrated gradients).
      targets: ``test``, ``val``, ``train``, ``all``, or a list of node ids.
      classes: ``predicted``, ``true``, ``all`` or one class id (an int >= 0).
      path: ``auto``, ``fast`` or ``general``.
      memory_budget_mb: device memory one chunk of targets may use.
      top_k_sources: keep only each target's ``k`` sources of largest ``|value|`` in the result
        folders (default: all; a whole large graph's every pair can take gigabytes).
      max_host_mb: the peak host memory a method's explain may need, estimated before it
        starts (``jgattr.attribution.estimate_explain``); unset: the memory available.
      n_steps: integrated gradients: quadrature points.
      quadrature: integrated gradients: quadrature rule.
      output: integrated gradients: ``logit`` or ``probability``.
      baseline: reference input of IG and the LID family: ``zeros`` or ``mean``.
      relu_average: LID family: ``exact`` or ``n_sample``.
      n_samples: LID family: n of the paper's sampling rule.
      per_method: settings of one method, overriding the shared ones above, keyed by method
        name (TOML: ``[explain.per_method.edge_ig] n_steps = 20``); a key must be an argument
        of that method's factory. GNNExplainer's ``preset`` picks its defaults: ``"pyg"``
        (PyG's) or ``"ying"`` (Ying et al.'s code: ``[explain.per_method.gnn_explainer]
        preset = "ying"``), checked here before JAX loads.

    The shared settings go to every method whose factory takes them (``quadrature`` is the
    factories' ``quadrature_rule``).
    """

    methods: tuple[str, ...] = ("nam", "ig", "sig_lid_ig")
    targets: str | tuple[int, ...] = "test"
    classes: str | int = "predicted"
    path: str = "auto"
    memory_budget_mb: float = 1024.0
    max_host_mb: float | None = None
    top_k_sources: int | None = None
    n_steps: int = 50
    quadrature: str = "gauss_legendre"
    output: str = "logit"
    baseline: str = "zeros"
    relu_average: str = "exact"
    n_samples: int = 50
    per_method: dict[str, dict[str, Any]] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        _check_methods(self.methods)
        _check_targets(self.targets)
        if isinstance(self.classes, str) and self.classes not in CLASS_CHOICES:
            raise ValueError(
                f"[explain] classes must be one of {list(CLASS_CHOICES)} or a class id (an int "
                f">= 0), got {self.classes!r}"
            )
        if isinstance(self.classes, int) and self.classes < 0:
            raise ValueError(f"[explain] classes must be a class id >= 0, got {self.classes}")
        if self.path not in PATHS:
            raise ValueError(f"[explain] path must be one of {list(PATHS)}, got {self.path!r}")
        if self.memory_budget_mb <= 0:
            raise ValueError(f"[explain] memory_budget_mb must be > 0, got {self.memory_budget_mb}")
        if self.max_host_mb is not None and not self.max_host_mb > 0:
            raise ValueError(f"[explain] max_host_mb must be > 0, got {self.max_host_mb}")
        if self.top_k_sources is not None and self.top_k_sources < 1:
            raise ValueError(
                f"[explain] top_k_sources must be >= 1 (or left out: every source), got "
                f"{self.top_k_sources}"
            )
        for key in ("n_steps", "n_samples"):
            if getattr(self, key) < 1:
                raise ValueError(f"[explain] {key} must be >= 1, got {getattr(self, key)}")
        _check_presets(self.per_method)


def _check_presets(per_method: dict[str, dict[str, Any]]) -> None:
    """GNNExplainer's ``preset`` (``[explain.per_method.gnn_explainer] preset = "ying"``)."""
    for name, table in per_method.items():
        if not (method_key(name) in PRESET_METHODS and isinstance(table, dict)):
            continue
        preset = table.get("preset", GNN_EXPLAINER_PRESETS[0])
        if preset not in GNN_EXPLAINER_PRESETS:
            raise ValueError(
                f"[explain.per_method.{name}] preset must be one of {list(GNN_EXPLAINER_PRESETS)} "
                f"(PyG's defaults or Ying et al.'s code), got {shown(preset)}"
                + did_you_mean(preset, GNN_EXPLAINER_PRESETS)
            )


def _check_methods(methods: tuple[str, ...]) -> None:
    if not methods:
        raise ValueError(
            f"[explain] methods = {list(methods)} is empty: list at least one method, "
            'e.g. methods = ["nam", "ig", "sig_lid_ig"]'
        )
    for name in methods:
        problem = unknown_method(name) if isinstance(name, str) else None
        if problem is not None:
            raise ValueError(f"[explain] methods: {problem}")
    twice = sorted({m for m in methods if methods.count(m) > 1})
    if twice:
        raise ValueError(f"[explain] methods lists {twice} more than once: list each method once")


def _check_targets(targets: str | tuple[int, ...]) -> None:
    if isinstance(targets, str):
        if targets not in TARGET_SETS:
            raise ValueError(
                f"[explain] targets must be one of {list(TARGET_SETS)} or a list of node ids, "
                f"got {targets!r}"
            )
    elif not targets:
        raise ValueError(
            f"[explain] targets = {list(targets)} is empty: give one of {list(TARGET_SETS)} "
            "or a non-empty list of node ids"
        )
    elif min(targets) < 0:
        raise ValueError(f"[explain] targets must be node ids >= 0, got {min(targets)}")


@dataclasses.dataclass(frozen=True)
class EvaluateConfig:
    """The ``[evaluate]`` table: faithfulness metrics, figures and the report.

    Attributes:
      mode: deletion mode, ``remove`` (nodes and edges go, normalization recomputed) or ``zero``.
      random_seeds: number of random deletion orders (the baseline curve's mean and std).
      niv_nodes: nodes whose NIV figure is drawn (default: the first test node).
      niv_top_k: neighbours drawn per NIV (the rest are summarized).
      sample: how many explained targets the metrics score, a seeded sample (the report says
        how many); ``"all"`` scores every one.
    """

    mode: str = "remove"
    random_seeds: int = 5
    niv_nodes: tuple[int, ...] = ()
    niv_top_k: int = 15
    sample: int | str = 2000

    def __post_init__(self) -> None:
        if isinstance(self.sample, str) and self.sample != "all":
            raise ValueError(f'[evaluate] sample must be "all" or an int >= 1, got {self.sample!r}')
        if isinstance(self.sample, int) and self.sample < 1:
            raise ValueError(f'[evaluate] sample must be >= 1 or "all", got {self.sample}')
        if self.mode not in MODES:
            raise ValueError(
                f"[evaluate] mode must be one of {list(MODES)}, got {shown(self.mode)}"
                + did_you_mean(self.mode, MODES)
            )


@dataclasses.dataclass(frozen=True)
class Config:
    """A whole run: ``[data]``, ``[model]``, ``[train]``, ``[explain]``, ``[evaluate]``."""

    data: DataConfig = dataclasses.field(default_factory=DataConfig)
    model: ModelConfig = dataclasses.field(default_factory=ModelConfig)
    train: TrainConfig = dataclasses.field(default_factory=TrainConfig)
    explain: ExplainConfig = dataclasses.field(default_factory=ExplainConfig)
    evaluate: EvaluateConfig = dataclasses.field(default_factory=EvaluateConfig)

    def __post_init__(self) -> None:
        if self.data.directed and not self.data.name.lower().endswith(".npz"):
            raise ValueError(
                "[data] directed = true keeps the one-way edges of a .npz graph; "
                f"{shown(self.data.name)} is not one: remove directed"
            )
        if self.data.directed and self.model.architecture in UNDIRECTED_ONLY:
            readers = ", ".join(a for a in ARCHITECTURES if a not in UNDIRECTED_ONLY)
            raise ValueError(
                f"[data] directed = true needs a model that reads in-edges only ({readers}): "
                f"the {self.model.architecture} model's symmetric normalization assumes an "
                "undirected graph; set [model] architecture or remove directed"
            )


def _accepts(annotation: Any, value: Any) -> bool:
    if annotation is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if annotation is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if isinstance(annotation, types.UnionType) or typing.get_origin(annotation) is typing.Union:
        return any(_accepts(arg, value) for arg in typing.get_args(annotation))
    if annotation is type(None):
        return value is None
    origin = typing.get_origin(annotation)
    if origin is dict:
        return isinstance(value, dict)
    if annotation is typing.Any:
        return True
    if origin in (tuple, list):
        item = typing.get_args(annotation)[0]
        return isinstance(value, list | tuple) and all(_accepts(item, v) for v in value)
    return isinstance(value, annotation)


def _section(cls: type, table: Any, where: str, source: str) -> Any:
    if not isinstance(table, dict):
        raise ConfigError(f"{where} must be a table, got {table!r}")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    hints = typing.get_type_hints(cls)
    for key, value in table.items():
        if key not in fields:
            raise ConfigError(
                f"{where}.{key if key.isascii() else ascii(key)} is not a known key; valid keys: "
                f"{sorted(fields)}" + did_you_mean(key, fields)
            )
        if not _accepts(hints[key], value):
            raise ConfigError(f"{where}.{key} must be of type {hints[key]}, got {value!r}")
    values = {key: tuple(v) if isinstance(v, list) else v for key, v in table.items()}
    try:
        return cls(**values)
    except ValueError as err:
        message = str(err)  # "[table] key ..." messages name their table themselves
        raise ConfigError(
            f"{source}: {message}" if message.startswith("[") else f"{where}: {message}"
        ) from err


def default_config() -> Config:
    """The built-in config of ``jgattr`` commands run without ``--config``: BA-Shapes, offline.

    The same as ``configs/ba-shapes.toml``: Ying et al.'s 3-layer concat-GCN (hidden 20, no
    dropout) trained as in their code (Adam lr 0.001, weight decay 0.005, 1000 epochs, the last
    epoch kept), explained with saliency, NAM, IG, SIG-LID-IG and the edge methods (edge IG,
    edge saliency, GNNExplainer) on the test nodes.
    """
    return Config(
        data=DataConfig(name="ba-shapes", normalize_features=False),
        model=ModelConfig(
            architecture="gcn_concat", num_layers=3, hidden_size=20, dropout_rate=0.0
        ),
        train=TrainConfig(
            learning_rate=0.001,
            weight_decay=0.005,
            epochs=1000,
            early_stopping=0,
            restore_best=False,
        ),
        explain=ExplainConfig(
            methods=(
                "saliency",
                "nam",
                "ig",
                "sig_lid_ig",
                "edge_ig",
                "edge_saliency",
                "gnn_explainer",
            ),
            relu_average="n_sample",
        ),
    )


def config_from_dict(raw: dict[str, Any], *, source: str = "config") -> Config:
    """Build a :class:`Config` from nested dictionaries (the parsed TOML)."""
    sections = {f.name: f.type for f in dataclasses.fields(Config)}
    hints = typing.get_type_hints(Config)
    unknown = sorted(set(raw) - set(sections))
    if unknown:
        raise ConfigError(
            f"{source}: unknown table(s) {', '.join(shown(t) for t in unknown)}; valid tables: "
            f"{sorted(sections)}" + did_you_mean(unknown[0], sections)
        )
    tables = {name: _section(hints[name], raw[name], f"{source} [{name}]", source) for name in raw}
    try:
        return Config(**tables)
    except ValueError as err:
        raise ConfigError(f"{source}: {err}") from err


def load_config(path: str | os.PathLike) -> Config:
    """Read a TOML config file (see ``configs/`` and docs/config.md, the config reference)."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file {path} does not exist; see configs/ for examples")
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as err:
        raise ConfigError(f"config file {path} is not valid TOML: {err}") from err
    return config_from_dict(raw, source=str(path))


def replace(config: Config, section: str, **changes: Any) -> Config:
    """A copy of ``config`` with fields of one section changed (used for CLI overrides)."""
    updated = dataclasses.replace(getattr(config, section), **changes)
    return dataclasses.replace(config, **{section: updated})

"""The ``jgattr`` command handlers: effective config, then one library job per command.

JAX, Flax and the jobs are imported inside the handlers, so importing this module stays cheap.
"""

import argparse
import contextlib
import json
import time
from collections.abc import Callable
from pathlib import Path

from jgattr._io import run_folder_lock
from jgattr.cli._messages import dataset_hint, epoch_printer, say

_FLAGS = {"methods": "--methods", "targets": "--targets", "classes": "--classes"}


def _effective_config(args: argparse.Namespace):
    from jgattr._config import default_config, load_config, replace

    config = load_config(args.config) if args.config else default_config()
    if args.out is None:
        args.out = Path("runs") / Path(config.data.name).stem
    overrides = {
        key: getattr(args, key)
        for key in ("seed", "epochs")
        if getattr(args, key, None) is not None
    }
    if overrides:
        config = replace(config, "train", **overrides)
    if args.no_verify_checksums:
        config = replace(config, "data", verify_checksums=False)
    explain = {
        key: getattr(args, key)
        for key in ("methods", "targets", "classes", "path", "memory_budget_mb", "max_host_mb")
        if getattr(args, key, None) is not None
    }
    if explain:
        try:
            config = replace(config, "explain", **explain)
        except ValueError as err:  # name the flag, not the config table
            message = str(err).replace("[explain] methods", "--methods")
            raise ValueError(message.replace("[explain] targets", "--targets")) from None
    args.names = {key: flag for key, flag in _FLAGS.items() if key in explain}
    return config


def _start(args: argparse.Namespace):
    """First progress line, then the effective config, both before the heavy imports: a config
    error shows in a fraction of a second, not after JAX has loaded."""
    say(args, f"loading {dataset_hint(args.config)} ...")
    config = _effective_config(args)
    if getattr(args, "distributed", False):
        import jax

        jax.distributed.initialize()
    from jgattr._xla_cache import enable_persistent_cache

    enable_persistent_cache()  # a new process reuses every program compiled before
    return config


def _train_step(args: argparse.Namespace, config, *, reuse: bool) -> dict:
    from jgattr._checkpoint import unreadable_checkpoint
    from jgattr.jobs import explain_fits, reusable_training, train_and_save

    trained = reusable_training(config, args.out) if reuse else None
    problem = unreadable_checkpoint(args.out) if reuse and trained is None else None
    if problem is not None:
        say(args, f"{problem.split(' (')[0]}: training a new one")
    if trained is not None:
        say(args, f"reusing the checkpoint in {args.out}: train.json records the same settings")
        return trained
    imported = config.model.source == "torch"
    fits = explain_fits(config, lambda line: say(args, line)) if reuse and not imported else None

    def before(dataset, model) -> None:  # the dataset is loaded: jgattr run's explain must fit
        if fits is not None:
            fits(dataset, model)
        say(args, f"training for up to {config.train.epochs} epochs ...")

    if imported:
        say(args, f"importing the PyG model {config.model.module} ({config.model.state_dict}) ...")
    trained = train_and_save(
        config,
        args.out,
        data_dir=args.data_dir,
        overwrite=args.overwrite,
        on_epoch=epoch_printer(args, config.train.epochs),
        before=before,
    )
    if trained.get("edge_changes"):
        from jgattr.data import edge_changes_line

        say(args, edge_changes_line(trained["edge_changes"]))
    if imported:
        say(args, f"imported {trained['model']['name']} in {trained['seconds']} s (not trained)")
    else:
        say(args, f"trained {trained['epochs']} epochs in {trained['seconds']} s")
    return trained


def _train(args: argparse.Namespace) -> int:
    config = _start(args)
    summary = _train_step(args, config, reuse=False)
    print(json.dumps(summary, indent=2))
    if config.model.source == "torch":
        print(f"wrote {args.out / 'train.json'} (the weights stay in {summary['checkpoint']})")
    else:
        print(f"wrote {args.out / 'train.json'} and {summary['checkpoint']}")
    return 0


def _explain_step(args: argparse.Namespace, config, checkpoint: Path) -> None:
    from jgattr.jobs import explain_and_save

    summary = explain_and_save(
        config,
        checkpoint,
        args.out,
        data_dir=args.data_dir,
        progress=True,
        overwrite=args.overwrite,
        names=args.names,
        log=lambda line: say(args, line),
    )
    for name, stats in summary["methods"].items():
        kept = "" if name in summary["computed"] else " (kept from an earlier run)"
        print(
            f"{name}: {stats['targets']} targets in {stats['seconds']} s "
            f"(compile {stats['compile_seconds']} s, {stats['path']} path) -> {stats['file']}"
            + kept
        )
    print(f"wrote {args.out / 'explain.json'}")


def _explain(args: argparse.Namespace) -> int:
    config = _start(args)
    _explain_step(args, config, args.checkpoint or args.out)
    return 0


def _evaluate_step(args: argparse.Namespace, config) -> dict:
    from jgattr.jobs import evaluate_run

    start = time.monotonic()
    say(
        args,
        f"evaluating: deletion curves, fidelity, contrastivity (mode {config.evaluate.mode}; "
        f"random orders: {config.evaluate.random_seeds}) ...",
    )
    metrics = evaluate_run(config, args.out, data_dir=args.data_dir)
    say(args, f"evaluated in {time.monotonic() - start:.1f} s")
    print(f"random order: deletion AUC {metrics['random']['deletion_auc']:.4f}")
    for name, values in metrics["methods"].items():
        if "deletion_auc" in values:
            print(f"{name}: deletion AUC {values['deletion_auc']:.4f}")
    print(f"wrote {args.out / 'eval.json'} and " + ", ".join(metrics["figures"]))
    return metrics


def _reading(args: argparse.Namespace):
    """The lock of a job that reads --out and adds files to it; a missing --out is not created."""
    if args.out.is_dir():
        return run_folder_lock(args.out, f"jgattr {args.command}")
    return contextlib.nullcontext()


def _evaluate(args: argparse.Namespace) -> int:
    from jgattr._config import replace

    config = _start(args)
    if args.mode:
        config = replace(config, "evaluate", mode=args.mode)
    with _reading(args):
        _evaluate_step(args, config)
    return 0


def _niv_step(args: argparse.Namespace, config, node: int) -> None:
    from jgattr.jobs import niv_run

    say(args, f"drawing the NIV figure of node {node} ...")
    paths = niv_run(config, args.out, node, data_dir=args.data_dir)
    print("wrote " + ", ".join(str(p) for p in paths))


def _graph_step(args: argparse.Namespace, config, graph: int) -> None:
    from jgattr.jobs import graph_figure_run

    say(args, f"drawing graph {graph} per class and method ...")
    paths = graph_figure_run(config, args.out, graph, data_dir=args.data_dir)
    print("wrote " + ", ".join(str(p) for p in paths))


def _niv(args: argparse.Namespace) -> int:
    config = _start(args)
    with _reading(args):
        if args.graph is not None:
            _graph_step(args, config, args.graph)
        else:
            _niv_step(args, config, args.node)
    return 0


def _subgraph(args: argparse.Namespace) -> int:
    config = _start(args)
    from jgattr.jobs import subgraph_run

    with _reading(args):
        say(args, f"drawing the subgraph figure of node {args.node} ...")
        paths = subgraph_run(
            config,
            args.out,
            args.node,
            edge_method=args.edge_method,
            node_method=args.node_method,
            top_k=args.top_k,
            data_dir=args.data_dir,
        )
        print("wrote " + ", ".join(str(p) for p in paths))
    return 0


def _run(args: argparse.Namespace) -> int:
    config = _start(args)
    from jgattr.jobs import write_report

    with run_folder_lock(args.out, "jgattr run"):
        trained = _train_step(args, config, reuse=True)
        verb = "imported" if config.model.source == "torch" else "trained"
        print(
            f"{verb} on {trained['dataset']}: test accuracy {trained['accuracy']['test']:.4f}; "
            f"wrote {args.out / 'train.json'}"
        )
        _explain_step(args, config, args.out)
        metrics = _evaluate_step(args, config)
        for node in metrics["niv_nodes"]:  # [evaluate] niv_nodes, else a chosen target
            _niv_step(args, config, node)
        for graph in metrics.get("figure_graphs", []):
            _graph_step(args, config, graph)
        print(f"report: {write_report(args.out)}")
    return 0


HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "train": _train,
    "explain": _explain,
    "evaluate": _evaluate,
    "niv": _niv,
    "subgraph": _subgraph,
    "run": _run,
}

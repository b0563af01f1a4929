"""The ``jgattr`` command line: parse, load the config, call the library, say where results went."""

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from jgattr._checkpoint import CheckpointError
from jgattr._config import Config, ConfigError, default_config, load_config, replace
from jgattr.data import DataError
from jgattr.jobs import evaluate_run, explain_and_save, niv_run, train_and_save, write_report


def _add_explain_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--methods",
        default=None,
        help="comma-separated methods, e.g. nam,ig,sig-lid-ig (default: [explain] methods)",
    )
    parser.add_argument(
        "--targets",
        default=None,
        help="test, val, train, all, or comma-separated node ids (default: [explain] targets)",
    )
    parser.add_argument("--classes", default=None, help="predicted, true or all")
    parser.add_argument("--path", default=None, help="auto, fast or general")
    parser.add_argument(
        "--memory-budget-mb", type=float, default=None, help="device memory per chunk of targets"
    )


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config",
        type=Path,
        default=None,
        help="TOML config file (see configs/); default: the built-in offline BA-Shapes config",
    )
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="run folder for checkpoint and result files (default: runs/<dataset>)",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="folder holding the Planetoid files (default: $JGATTR_DATA_DIR, else the user cache)",
    )
    parser.add_argument("--seed", type=int, default=None, help="override [train] seed")
    parser.add_argument(
        "--distributed",
        action="store_true",
        help="call jax.distributed.initialize() first (multi-host; settings from the environment)",
    )
    parser.add_argument("--epochs", type=int, default=None, help="override [train] epochs")
    parser.add_argument(
        "--no-verify-checksums",
        action="store_true",
        help="accept Planetoid files whose SHA-256 does not match the published one",
    )


def _build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jgattr",
        description="Attributions for every node of a graph at once (NAM, IG, SIG-LID-IG).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    train = commands.add_parser(
        "train",
        help="train the configured GCN; writes checkpoint.msgpack and train.json",
        description="Train the configured GCN; writes checkpoint.msgpack and train.json to --out.",
    )
    _add_common(train)
    explain = commands.add_parser(
        "explain",
        help="explain the targets of a trained checkpoint; writes attributions_*.npz, explain.json",
        description=(
            "Compute attributions for every target with each method in one run; writes "
            "attributions_<method>.npz and explain.json to --out (resumes an interrupted run)."
        ),
    )
    _add_common(explain)
    explain.add_argument(
        "--checkpoint",
        type=Path,
        default=None,
        help="run folder or checkpoint file (default: --out)",
    )
    _add_explain_options(explain)
    evaluate = commands.add_parser(
        "evaluate",
        help="faithfulness metrics of a run's attributions; writes eval.json and curve figures",
        description=(
            "Deletion curves (attribution order, reverse, random), probability change, fidelity, "
            "minimal patch and sparsity for the run in --out; writes eval.json and figures."
        ),
    )
    _add_common(evaluate)
    evaluate.add_argument("--mode", default=None, help="remove (default) or zero")
    niv = commands.add_parser(
        "niv",
        help="NIV figure of one node: its neighbourhood sized by attribution, one panel per method",
        description="Draw the NIV figure of --node for the methods of [explain] (PNG and SVG).",
    )
    _add_common(niv)
    niv.add_argument("--node", type=int, required=True, help="the target node id")
    run = commands.add_parser(
        "run",
        help="the main job: train, explain, evaluate, draw, and write a report",
        description=(
            "The main job: train the configured model, explain its targets, evaluate the "
            "attributions, draw curves and NIV figures, and write report.md."
        ),
    )
    _add_common(run)
    _add_explain_options(run)
    return parser


def _effective_config(args: argparse.Namespace) -> Config:
    config = load_config(args.config) if args.config else default_config()
    if args.out is None:
        args.out = Path("runs") / Path(config.data.name).stem
    overrides = {
        key: value
        for key, value in (("seed", args.seed), ("epochs", args.epochs))
        if value is not None
    }
    if overrides:
        config = replace(config, "train", **overrides)
    if args.no_verify_checksums:
        config = replace(config, "data", verify_checksums=False)
    explain = _explain_overrides(args)
    if explain:
        config = replace(config, "explain", **explain)
    return config


def _explain_overrides(args: argparse.Namespace) -> dict:
    overrides = {}
    if getattr(args, "methods", None):
        overrides["methods"] = tuple(m.strip() for m in args.methods.split(",") if m.strip())
    if getattr(args, "targets", None):
        targets = args.targets.strip()
        if targets.replace(",", "").replace(" ", "").isdigit():
            targets = tuple(int(t) for t in targets.split(",") if t.strip())
        overrides["targets"] = targets
    for name in ("classes", "path", "memory_budget_mb"):
        if getattr(args, name, None) is not None:
            overrides[name] = getattr(args, name)
    return overrides


def _train(args: argparse.Namespace) -> int:
    config = _effective_config(args)
    summary = train_and_save(config, args.out, data_dir=args.data_dir)
    print(json.dumps(summary, indent=2))
    print(f"wrote {args.out / 'train.json'} and {summary['checkpoint']}")
    return 0


def _explain(args: argparse.Namespace) -> int:
    config = _effective_config(args)
    checkpoint = args.checkpoint or args.out
    summary = explain_and_save(config, checkpoint, args.out, data_dir=args.data_dir)
    _print_explain(summary, args.out)
    return 0


def _print_explain(summary: dict, out: Path) -> None:
    for name, stats in summary["methods"].items():
        print(
            f"{name}: {stats['targets']} targets in {stats['seconds']} s "
            f"(compile {stats['compile_seconds']} s, {stats['path']} path) -> {stats['file']}"
        )
    print(f"wrote {out / 'explain.json'}")


def _evaluate(args: argparse.Namespace) -> int:
    config = _effective_config(args)
    if args.mode:
        config = replace(config, "evaluate", mode=args.mode)
    metrics = evaluate_run(config, args.out, data_dir=args.data_dir)
    _print_evaluation(metrics, args.out)
    return 0


def _print_evaluation(metrics: dict, out: Path) -> None:
    print(f"random order: deletion AUC {metrics['random']['deletion_auc']:.4f}")
    for name, values in metrics["methods"].items():
        if "deletion_auc" in values:
            print(f"{name}: deletion AUC {values['deletion_auc']:.4f}")
    print(f"wrote {out / 'eval.json'} and " + ", ".join(metrics["figures"]))


def _niv(args: argparse.Namespace) -> int:
    config = _effective_config(args)
    paths = niv_run(config, args.out, args.node, data_dir=args.data_dir)
    print("wrote " + ", ".join(str(p) for p in paths))
    return 0


def _run(args: argparse.Namespace) -> int:
    config = _effective_config(args)
    trained = train_and_save(config, args.out, data_dir=args.data_dir)
    print(
        f"trained on {trained['dataset']}: test accuracy {trained['accuracy']['test']:.4f}; "
        f"wrote {args.out / 'train.json'}"
    )
    summary = explain_and_save(config, args.out, args.out, data_dir=args.data_dir)
    _print_explain(summary, args.out)
    metrics = evaluate_run(config, args.out, data_dir=args.data_dir)
    _print_evaluation(metrics, args.out)
    nodes = metrics["niv_nodes"]  # jobs.default_niv_nodes: [evaluate] niv_nodes or a chosen target
    for node in nodes:
        niv_run(config, args.out, node, data_dir=args.data_dir)
    print(f"report: {write_report(args.out)}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``jgattr`` console script; returns the exit status."""
    args = _build_parser().parse_args(argv)
    if args.distributed:
        import jax

        jax.distributed.initialize()
    handlers = {
        "train": _train,
        "explain": _explain,
        "evaluate": _evaluate,
        "niv": _niv,
        "run": _run,
    }
    try:
        return handlers[args.command](args)
    except (ConfigError, DataError, CheckpointError, ValueError) as err:
        print(f"jgattr {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

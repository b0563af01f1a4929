"""The ``jgattr`` command line: parse, load the config, call the library, say where results went.

Results go to stdout, progress to stderr (plain lines, so logs and pipes stay readable). Bad
input exits with status 2 and one line naming the argument, the value and the fix; Ctrl-C exits
with 130 and says what was kept. Heavy imports (JAX, Flax) happen inside the command handlers,
so ``--help`` is instant.
"""

import argparse
import contextlib
import json
import sys
import time
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from jgattr._io import RunFolderBusy, run_folder_lock

# The choices of [explain] (jgattr._config and jgattr.attribution; a test checks they agree).
TARGET_SETS = ("test", "val", "train", "all")
CLASS_CHOICES = ("predicted", "true", "all")
PATHS = ("auto", "fast", "general")
MODES = ("remove", "zero")
EXIT_USAGE, EXIT_INTERRUPTED = 2, 130


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):
        """One line naming the argument, the value and the fix; no usage block."""
        self.exit(EXIT_USAGE, f"{self.prog}: error: {message} (see `{self.prog} --help`)\n")


# ------------------------------------------------------------------------ argument types


def _methods(text: str) -> tuple[str, ...]:
    names = tuple(name.strip() for name in text.split(","))
    if "" in names:
        raise argparse.ArgumentTypeError(
            f"must be comma-separated method names, e.g. nam,ig,sig-lid-ig, got {text!r}"
        )
    return names


def _targets(text: str) -> str | tuple[int, ...]:
    text = text.strip()
    if text in TARGET_SETS:
        return text
    try:
        ids = tuple(int(part) for part in text.split(","))
    except ValueError:
        ids = ()
    if not ids or min(ids) < 0:
        raise argparse.ArgumentTypeError(
            f"must be one of {', '.join(TARGET_SETS)} or comma-separated node ids >= 0 "
            f"(e.g. 0,5,7), got {text!r}"
        )
    return ids


def _classes(text: str) -> str | int:
    text = text.strip()
    if text in CLASS_CHOICES:
        return text
    if text.isdigit():
        return int(text)
    raise argparse.ArgumentTypeError(
        f"must be one of {', '.join(CLASS_CHOICES)} or a class id (an int >= 0, e.g. 3), "
        f"got {text!r}"
    )


def _int_at_least(minimum: int) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = minimum - 1
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be an int >= {minimum}, got {text!r}")
        return value

    parse.__name__ = f"int >= {minimum}"
    return parse


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        value = 0.0
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be a number > 0, got {text!r}")
    return value


# ------------------------------------------------------------------------ options


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
        help="run folder for checkpoint and result files (default: runs/<dataset>); locked "
        "while a job writes to it",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="folder holding the Planetoid files (default: $JGATTR_DATA_DIR, else the user cache)",
    )
    parser.add_argument(
        "--no-verify-checksums",
        action="store_true",
        help="accept Planetoid files whose SHA-256 does not match the published one",
    )


def _add_train_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=None, help="override [train] seed")
    parser.add_argument(
        "--epochs", type=_int_at_least(1), default=None, help="override [train] epochs (>= 1)"
    )


def _add_distributed(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--distributed",
        action="store_true",
        help="call jax.distributed.initialize() first (multi-host; settings from the environment)",
    )


def _add_overwrite(parser: argparse.ArgumentParser, what: str) -> None:
    parser.add_argument(
        "--overwrite",
        action="store_true",
        help=f"replace {what} (default: refuse, and keep everything)",
    )


def _add_explain_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--methods",
        type=_methods,
        default=None,
        help="comma-separated methods, e.g. nam,ig,sig-lid-ig (default: [explain] methods)",
    )
    parser.add_argument(
        "--targets",
        type=_targets,
        default=None,
        help="test, val, train, all, or comma-separated node ids (default: [explain] targets)",
    )
    parser.add_argument(
        "--classes",
        type=_classes,
        default=None,
        help="class explained per target: predicted, true, all (one target per class) or a "
        "class id such as 3 (default: [explain] classes)",
    )
    parser.add_argument("--path", choices=PATHS, default=None, help="auto, fast or general")
    parser.add_argument(
        "--memory-budget-mb",
        type=_positive_float,
        default=None,
        help="device memory per chunk of targets",
    )


def _add_command(commands, name: str, help: str, description: str) -> argparse.ArgumentParser:
    parser = commands.add_parser(name, help=help, description=description)
    _add_common(parser)
    return parser


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="jgattr",
        description="Attributions for every node of a graph at once (NAM, IG, SIG-LID-IG).",
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    parser.set_defaults(commands=commands.choices)
    train = _add_command(
        commands,
        "train",
        "train the configured GCN; writes checkpoint.msgpack and train.json",
        "Train the configured GCN; writes checkpoint.msgpack and train.json to --out.",
    )
    _add_train_options(train)
    _add_overwrite(train, "the checkpoint of an --out that holds attributions, and delete them")
    explain = _add_command(
        commands,
        "explain",
        "explain the targets of a trained checkpoint; writes attributions_*.npz, explain.json",
        "Compute attributions for every target with each method in one run; writes "
        "attributions_<method>.npz and explain.json to --out. Methods are added to the ones "
        "--out holds; an interrupted run resumes from --out/parts.",
    )
    explain.add_argument(
        "--checkpoint",
        type=Path,
        default=None,
        help="run folder or checkpoint file (default: --out)",
    )
    _add_explain_options(explain)
    _add_overwrite(explain, "attributions in --out of another target set or checkpoint")
    _add_distributed(explain)
    evaluate = _add_command(
        commands,
        "evaluate",
        "faithfulness metrics of a run's attributions; writes eval.json and curve figures",
        "Deletion curves (attribution order, reverse, random), probability change, fidelity, "
        "minimal patch and sparsity for the run in --out; writes eval.json and figures.",
    )
    evaluate.add_argument("--mode", choices=MODES, default=None, help="remove (default) or zero")
    niv = _add_command(
        commands,
        "niv",
        "NIV figure of one node: its neighbourhood sized by attribution, one panel per method",
        "Draw the NIV figure of --node for the methods of [explain] (PNG and SVG).",
    )
    niv.add_argument("--node", type=_int_at_least(0), required=True, help="the target node id")
    run = _add_command(
        commands,
        "run",
        "the main job: train, explain, evaluate, draw, and write a report",
        "The main job: train the configured model (or reuse --out's checkpoint if train.json "
        "records the same settings), explain its targets, evaluate the attributions, draw "
        "curves and NIV figures, and write report.md. Rerun the same command to resume.",
    )
    _add_train_options(run)
    _add_explain_options(run)
    _add_overwrite(run, "results in --out of another target set or training settings")
    _add_distributed(run)
    return parser


# ------------------------------------------------------------------------ config


def _say(args: argparse.Namespace, message: str) -> None:
    """A progress line on stderr (stdout carries results only)."""
    print(f"jgattr {args.command}: {message}", file=sys.stderr, flush=True)


def _dataset_hint(config: Path | None) -> str:
    """The dataset a config names, read cheaply before JAX is imported (errors come later)."""
    if config is None:
        return "ba-shapes (built-in config)"
    try:
        name = tomllib.loads(config.read_text()).get("data", {}).get("name", "cora")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, AttributeError):
        return str(config)
    return f"{name} ({config})"


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
        for key in ("methods", "targets", "classes", "path", "memory_budget_mb")
        if getattr(args, key, None) is not None
    }
    if explain:
        config = replace(config, "explain", **explain)
    args.names = {key: flag for key, flag in _FLAGS.items() if key in explain}
    return config


def _start(args: argparse.Namespace):
    """First progress line (before the heavy imports), then the effective config."""
    _say(args, f"loading {_dataset_hint(args.config)} ...")
    if getattr(args, "distributed", False):
        import jax

        jax.distributed.initialize()
    return _effective_config(args)


# ------------------------------------------------------------------------ commands


def _epoch_printer(args: argparse.Namespace, epochs: int) -> Callable[[int, dict], None]:
    """Training progress about every tenth of the epochs or every 2 s, whichever comes first."""
    every, last = max(1, epochs // 10), [0.0]

    def on_epoch(epoch: int, metrics: dict[str, float]) -> None:
        now = time.monotonic()
        if epoch == 1 or epoch % every == 0 or now - last[0] >= 2.0:
            last[0] = now
            _say(
                args,
                f"epoch {epoch}/{epochs}: train loss {metrics['train_loss']:.4f}, "
                f"val acc {metrics['val_accuracy']:.4f}",
            )

    return on_epoch


def _train_step(args: argparse.Namespace, config, *, reuse: bool) -> dict:
    from jgattr.jobs import reusable_training, train_and_save

    trained = reusable_training(config, args.out) if reuse else None
    if trained is not None:
        _say(args, f"reusing the checkpoint in {args.out}: train.json records the same settings")
        return trained
    _say(args, f"training for up to {config.train.epochs} epochs ...")
    trained = train_and_save(
        config,
        args.out,
        data_dir=args.data_dir,
        overwrite=args.overwrite,
        on_epoch=_epoch_printer(args, config.train.epochs),
    )
    _say(args, f"trained {trained['epochs']} epochs in {trained['seconds']} s")
    return trained


def _train(args: argparse.Namespace) -> int:
    config = _start(args)
    summary = _train_step(args, config, reuse=False)
    print(json.dumps(summary, indent=2))
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
        log=lambda line: _say(args, line),
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
    _say(
        args,
        f"evaluating: deletion curves, fidelity, contrastivity (mode {config.evaluate.mode}; "
        f"random orders: {config.evaluate.random_seeds}) ...",
    )
    metrics = evaluate_run(config, args.out, data_dir=args.data_dir)
    _say(args, f"evaluated in {time.monotonic() - start:.1f} s")
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

    _say(args, f"drawing the NIV figure of node {node} ...")
    paths = niv_run(config, args.out, node, data_dir=args.data_dir)
    print("wrote " + ", ".join(str(p) for p in paths))


def _niv(args: argparse.Namespace) -> int:
    config = _start(args)
    with _reading(args):
        _niv_step(args, config, args.node)
    return 0


def _run(args: argparse.Namespace) -> int:
    from jgattr.jobs import write_report

    config = _start(args)
    with run_folder_lock(args.out, "jgattr run"):
        trained = _train_step(args, config, reuse=True)
        print(
            f"trained on {trained['dataset']}: test accuracy {trained['accuracy']['test']:.4f}; "
            f"wrote {args.out / 'train.json'}"
        )
        _explain_step(args, config, args.out)
        metrics = _evaluate_step(args, config)
        for node in metrics["niv_nodes"]:  # [evaluate] niv_nodes, else a chosen target
            _niv_step(args, config, node)
        print(f"report: {write_report(args.out)}")
    return 0


# ------------------------------------------------------------------------ entry point


def _interrupted(out: Path | None) -> str:
    """What Ctrl-C leaves: finished rounds in ``out/parts`` (with their total from manifests)."""
    parts = out / "parts" if out is not None else None
    if parts is None or not parts.is_dir():
        where = f" in {out}" if out is not None else ""
        return f"interrupted: no unfinished work to keep{where}; rerun the same command"
    kept, total, known = 0, 0, True
    for folder in sorted(p for p in parts.iterdir() if p.is_dir()):
        kept += len(list(folder.glob("round_*.npz")))
        rounds = _manifest_rounds(folder / "manifest.json")
        known = known and rounds is not None
        total += rounds or 0
    of = f" of {total}" if known and total else ""
    return f"interrupted: {kept}{of} rounds kept in {parts}; rerun the same command to resume"


def _manifest_rounds(manifest: Path) -> int | None:
    try:
        rounds = json.loads(manifest.read_text()).get("rounds")
    except (OSError, ValueError, AttributeError):
        return None
    return rounds if isinstance(rounds, int) else None


def _parse(argv: Sequence[str] | None) -> argparse.Namespace:
    """Parsed arguments; an option another command takes is named as such."""
    parser = _build_parser()
    args, extra = parser.parse_known_args(argv)
    if extra:
        takes = {
            option: [
                name for name, sub in args.commands.items() if option in sub._option_string_actions
            ]
            for option in (arg.split("=")[0] for arg in extra)
            if option.startswith("--")
        }
        hints = [
            f"{option} is an option of {', '.join(names)}"
            for option, names in takes.items()
            if names
        ]
        command = args.commands[args.command]
        command.error(
            f"unrecognized arguments: {' '.join(extra)}"
            + (f" ({'; '.join(hints)})" if hints else "")
        )
    return args


_HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "train": _train,
    "explain": _explain,
    "evaluate": _evaluate,
    "niv": _niv,
    "run": _run,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``jgattr`` console script; returns the exit status.

    0 on success; 2 on bad input (argument, config, data, checkpoint, a run folder in use or
    holding other results), with one line on stderr; 130 on Ctrl-C, saying what was kept.
    """
    args: Any = _parse(argv)
    try:
        return _HANDLERS[args.command](args)
    except KeyboardInterrupt:
        print(_interrupted(args.out), file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED
    except (ValueError, RunFolderBusy, OSError) as err:
        # ConfigError, DataError, CheckpointError and RunFolderConflict are ValueErrors.
        print(f"jgattr {args.command}: error: {err}", file=sys.stderr, flush=True)
        return EXIT_USAGE


if __name__ == "__main__":
    sys.exit(main())

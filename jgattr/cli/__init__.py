"""The ``jgattr`` command line: parse, load the config, call the library, say where results went.

Results go to stdout, progress to stderr (plain lines, so logs and pipes stay readable). Bad
input exits with status 2 and one line naming the argument, the value and the fix; Ctrl-C exits
with 130 and says what was kept. Heavy imports (JAX, Flax) happen inside the command handlers
(``jgattr/cli/_commands.py``), so ``--help`` is instant; the messages are in ``_messages.py``.
"""

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from jgattr._io import RunFolderBusy
from jgattr._names import CLASS_CHOICES, MODES, PATHS, TARGET_SETS
from jgattr.cli._commands import HANDLERS
from jgattr.cli._messages import DESCRIPTION, help_epilog, interrupted_message, package_version

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
        help="folder holding the dataset's files (Planetoid, OGB zips, TU, MoleculeNet, ...; "
        "default: $JGATTR_DATA_DIR, else the user cache)",
    )
    parser.add_argument(
        "--no-verify-checksums",
        action="store_true",
        help="accept Planetoid files or OGB zips whose SHA-256 does not match the published one",
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
        help="test, val, train, all, or comma-separated node (or graph) ids (default: [explain] "
        "targets)",
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
    parser.add_argument(
        "--max-host-mb",
        type=_positive_float,
        default=None,
        help="peak host memory a job may need, estimated before it starts (default: [explain] "
        "max_host_mb, else the memory available)",
    )


def _add_command(commands, name: str, help: str, description: str) -> argparse.ArgumentParser:
    parser = commands.add_parser(name, help=help, description=description)
    _add_common(parser)
    return parser


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="jgattr",
        description=DESCRIPTION,
        epilog=help_epilog(),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"jgattr {package_version()}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    parser.set_defaults(commands=commands.choices)
    train = _add_command(
        commands,
        "train",
        "train the configured model; writes checkpoint.msgpack and train.json",
        "Train the model of [model] on the dataset of [data] (a node or a graph classifier); "
        "writes checkpoint.msgpack and train.json to --out.",
    )
    _add_train_options(train)
    _add_overwrite(train, "the checkpoint of an --out that holds attributions, and delete them")
    explain = _add_command(
        commands,
        "explain",
        "explain the targets of a trained checkpoint; writes attributions_*/, explain.json",
        "Compute attributions for every target with each method in one run; writes one result "
        "folder attributions_<method>/ (a shard per block of targets: any size streams to disk) "
        "and explain.json to --out. Methods are added to the ones --out holds; an interrupted "
        "run resumes from its finished shards and --out/parts.",
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
        "NIV figure of one node (or the panels of one graph), one panel per method",
        "Draw the NIV figure of --node for the methods of [explain] (PNG and SVG); on a graph "
        "classification dataset, --graph draws that graph once per class and method.",
    )
    which = niv.add_mutually_exclusive_group(required=True)
    which.add_argument("--node", type=_int_at_least(0), help="the target node id")
    which.add_argument(
        "--graph", type=_int_at_least(0), help="a graph id (graph classification datasets)"
    )
    subgraph = _add_command(
        commands,
        "subgraph",
        "subgraph figure of one node: its computation graph, edges and nodes drawn by relevance",
        "Draw the computation graph of --node with edge width/opacity from an edge method "
        "(GNNExplainer, edge IG, ...) and node size/opacity from a node method (PNG and SVG).",
    )
    subgraph.add_argument("--node", type=_int_at_least(0), required=True, help="the target node id")
    subgraph.add_argument(
        "--edge-method",
        default=None,
        help="edge method (default: the first of [explain] methods, else gnn_explainer)",
    )
    subgraph.add_argument(
        "--node-method",
        default=None,
        help="node method (default: the edge method's node part, else the first configured)",
    )
    subgraph.add_argument(
        "--top-k", type=_int_at_least(1), default=30, help="undirected edges drawn (default 30)"
    )
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


# ------------------------------------------------------------------------ entry point


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


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``jgattr`` console script; returns the exit status.

    0 on success; 2 on bad input (argument, config, data, checkpoint, a run folder in use or
    holding other results), with one line on stderr; 130 on Ctrl-C, saying what was kept.
    """
    args: Any = _parse(argv)
    try:
        return HANDLERS[args.command](args)
    except KeyboardInterrupt:
        print(interrupted_message(args.out), file=sys.stderr, flush=True)
        return EXIT_INTERRUPTED
    except (ValueError, RunFolderBusy, OSError) as err:
        # ConfigError, DataError, CheckpointError and RunFolderConflict are ValueErrors.
        print(f"jgattr {args.command}: error: {err}", file=sys.stderr, flush=True)
        return EXIT_USAGE

"""The ``jgattr`` command line: parse, load the config, call the library, say where results went."""

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from jgattr._checkpoint import CheckpointError
from jgattr._config import Config, ConfigError, load_config, replace
from jgattr._pipeline import train_and_save
from jgattr.data import DataError


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--config", required=True, type=Path, help="TOML config file (see configs/)"
    )
    parser.add_argument(
        "--out", required=True, type=Path, help="run folder for checkpoint and result files"
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=None,
        help="folder holding the Planetoid files (default: $JGATTR_DATA_DIR, else the user cache)",
    )
    parser.add_argument("--seed", type=int, default=None, help="override [train] seed")
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
    run = commands.add_parser(
        "run",
        help="the main job: train and report",
        description="The main job: train the configured model and report its accuracy.",
    )
    _add_common(run)
    return parser


def _effective_config(args: argparse.Namespace) -> Config:
    config = load_config(args.config)
    overrides = {
        key: value
        for key, value in (("seed", args.seed), ("epochs", args.epochs))
        if value is not None
    }
    if overrides:
        config = replace(config, "train", **overrides)
    if args.no_verify_checksums:
        config = replace(config, "data", verify_checksums=False)
    return config


def _train(args: argparse.Namespace) -> int:
    summary = train_and_save(_effective_config(args), args.out, data_dir=args.data_dir)
    print(json.dumps(summary, indent=2))
    print(f"wrote {args.out / 'train.json'} and {summary['checkpoint']}")
    return 0


def _run(args: argparse.Namespace) -> int:
    return _train(args)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``jgattr`` console script; returns the exit status."""
    args = _build_parser().parse_args(argv)
    handlers = {"train": _train, "run": _run}
    try:
        return handlers[args.command](args)
    except (ConfigError, DataError, CheckpointError, ValueError) as err:
        print(f"jgattr {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

"""What the ``jgattr`` command says: its help and version, progress lines on stderr and the
Ctrl-C summary."""

import argparse
import importlib.metadata
import json
import sys
import textwrap
import time
import tomllib
from collections.abc import Callable
from pathlib import Path

from jgattr._names import DATASET_NAMES, METHOD_ALIASES, METHOD_NAMES, dataset_families

DESCRIPTION = textwrap.fill(
    "jgattr explains graph neural network predictions for every target of a dataset at once: "
    "it trains a GNN (GCN, GAT, GIN, GraphSAGE, or imports a PyG model), computes each "
    "method's attributions (which nodes, edges or features each prediction rests on) for all "
    "targets in one JAX run, evaluates them and draws figures. A TOML config (configs/*.toml) "
    "names the dataset, model, training, methods and evaluation; without --config the "
    "commands run the built-in offline BA-Shapes config.",
    width=100,
)


def _listing(title: str, names: list[str]) -> str:
    """``title`` and the names, comma-separated and wrapped to 100 columns, indented."""
    body = textwrap.fill(", ".join(names), width=98, initial_indent="  ", subsequent_indent="  ")
    return f"{title}\n{body}"


def help_epilog() -> str:
    """The method and dataset names ``jgattr --help`` lists (from the registries' names)."""
    aliases = [f"{short}={name}" for short, name in METHOD_ALIASES.items()]
    return "\n\n".join(
        [
            _listing("methods ([explain] methods, --methods):", list(METHOD_NAMES)),
            _listing("short method names (- and _ alike):", aliases),
            _listing("datasets ([data] name):", [*DATASET_NAMES, *dataset_families()])
            + "\n  or the path of a .npz graph, a TU .zip or a SMILES .csv",
            "Run `jgattr COMMAND --help` for a command's options; docs: README.md and docs/.",
        ]
    )


def package_version() -> str:
    """jgattr's version from its installed package metadata."""
    try:
        return importlib.metadata.version("jgattr")
    except importlib.metadata.PackageNotFoundError:
        return "unknown (not installed: pip install -e .)"


def say(args: argparse.Namespace, message: str) -> None:
    """A progress line on stderr (stdout carries results only)."""
    print(f"jgattr {args.command}: {message}", file=sys.stderr, flush=True)


def dataset_hint(config: Path | None) -> str:
    """The dataset a config names, read cheaply before JAX is imported (errors come later)."""
    if config is None:
        return "ba-shapes (built-in config)"
    try:
        name = tomllib.loads(config.read_text()).get("data", {}).get("name", "cora")
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, AttributeError):
        return str(config)
    return f"{name} ({config})"


def epoch_printer(args: argparse.Namespace, epochs: int) -> Callable[[int, dict], None]:
    """Training progress about every tenth of the epochs or every 2 s, whichever comes first."""
    every, last = max(1, epochs // 10), [0.0]

    def on_epoch(epoch: int, metrics: dict[str, float]) -> None:
        now = time.monotonic()
        if epoch == 1 or epoch % every == 0 or now - last[0] >= 2.0:
            last[0] = now
            say(
                args,
                f"epoch {epoch}/{epochs}: train loss {metrics['train_loss']:.4f}, "
                f"val acc {metrics['val_accuracy']:.4f}",
            )

    return on_epoch


def interrupted_message(out: Path | None) -> str:
    """What Ctrl-C leaves: finished rounds in ``out/parts``, counted over every block of a
    method as progress counts them, with the total of the blocks planned so far (manifests)."""
    parts = out / "parts" if out is not None else None
    if parts is None or not parts.is_dir():
        where = f" in {out}" if out is not None else ""
        return f"interrupted: no unfinished work to keep{where}; rerun the same command"
    kept, total, known, blocks = 0, 0, True, {}
    folders = sorted(p for p in parts.iterdir() if p.is_dir())
    for folder in folders:
        kept += len(list(folder.glob("round_*.npz")))
        manifest = _manifest(folder / "manifest.json")
        rounds = manifest.get("rounds")
        known = known and isinstance(rounds, int)
        total += rounds if isinstance(rounds, int) else 0
        method = folder.name.rsplit("-block", 1)[0]  # one folder per block of a method
        count = manifest.get("blocks")
        blocks[method] = max(blocks.get(method, 1), count if isinstance(count, int) else 1)
    begun, blocks = len(folders), sum(blocks.values())
    of, planned = (f" of {total}" if known and total else ""), ""
    if of and begun < blocks:  # later blocks not planned yet: their rounds are unknown
        of, planned = "", f" (of {total} planned in the {begun} of {blocks} blocks begun)"
    return (
        f"interrupted: {kept}{of} rounds kept in {parts}{planned}; rerun the same command to resume"
    )


def _manifest(manifest: Path) -> dict:
    try:
        record = json.loads(manifest.read_text())
    except (OSError, ValueError):
        return {}
    return record if isinstance(record, dict) else {}

"""Configs are checked before JAX is imported, and a wrong name gets a did-you-mean; a name with
a look-alike non-ASCII letter is echoed with ``ascii()`` so it visibly differs from the real one."""

import json
import subprocess
import sys
import time

import pytest

from jgattr import _names
from jgattr._config import ConfigError, load_config
from jgattr.cli import main
from tests.conftest import REPO

CYRILLIC_NAM = "n\u0430m"  # "nаm": looks like "nam"


def test_the_name_lists_agree_with_the_registries():
    from jgattr.attribution import METHODS
    from jgattr.attribution._methods import ALIASES
    from jgattr.data import DATASETS, GRAPH_DATASETS, OGB_DATASETS, RELEASED_DATASETS, SYNTHETIC
    from jgattr.models import ARCHITECTURES, POOLS

    assert tuple(METHODS) == _names.METHOD_NAMES
    assert _names.METHOD_ALIASES is ALIASES
    assert _names.ARCHITECTURES == ARCHITECTURES and _names.POOLS is POOLS
    registries = {*DATASETS, *OGB_DATASETS, *SYNTHETIC, *GRAPH_DATASETS, *RELEASED_DATASETS}
    assert set(_names.DATASET_NAMES) == registries


@pytest.mark.parametrize(
    ("text", "needles"),
    [
        ("[data]\nnmae = 'cora'\n", ["[data].nmae is not a known key", "(did you mean 'name'?)"]),
        ("[modle]\n", ["unknown table(s) 'modle'", "(did you mean 'model'?)"]),
        ("[data]\nname = 'citesser'\n", ["unknown dataset 'citesser'", "did you mean 'citeseer'"]),
        ("[model]\narchitecture = 'sag'\n", ["got 'sag' (did you mean 'sage'?)"]),
        (
            "[explain]\nmethods = ['sig-lid-gi']\n",
            ["got 'sig-lid-gi'", "did you mean 'sig_lid_ig'"],
        ),
        (
            f"[explain]\nmethods = ['{CYRILLIC_NAM}']\n",
            ["got 'n\\u0430m' (it holds non-ASCII characters; did you mean 'nam'?)"],
        ),
        (f'[data]\n"{CYRILLIC_NAM}e" = 1\n', ["[data].'n\\u0430me' is not a known key"]),
    ],
)
def test_a_wrong_name_gets_a_did_you_mean(tmp_path, text, needles):
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(path)
    message = str(err.value)
    print(message)
    assert message.isascii()  # a look-alike letter is never printed as itself
    for needle in needles:
        assert needle in message


def test_a_config_error_comes_before_jax_is_imported(tmp_path):
    """In a fresh process: exit 2, one line, and neither JAX nor Flax imported."""
    config = tmp_path / "bad.toml"
    config.write_text(f"[explain]\nmethods = ['{CYRILLIC_NAM}', 'ig']\n", encoding="utf-8")
    code = (
        "import json, sys; from jgattr.cli import main\n"
        f"rc = main(['run', '--config', {str(config)!r}, '--out', {str(tmp_path / 'out')!r}])\n"
        "print(json.dumps([rc, sorted({'jax', 'flax'} & set(sys.modules))]))"
    )
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO)
    seconds = time.perf_counter() - start
    print(f"config error after {seconds:.2f} s: {result.stderr.strip()}")
    assert json.loads(result.stdout) == [2, []], result.stderr
    lines = [line for line in result.stderr.splitlines() if "error:" in line]
    assert len(lines) == 1 and "Traceback" not in result.stderr
    assert "'n\\u0430m'" in lines[0] and "did you mean 'nam'?" in lines[0]
    assert not (tmp_path / "out").exists()
    assert seconds < 5.0


@pytest.mark.parametrize(
    "name", ["Cora", "powerlaw:1e6", "powerlaw:1_000_000", "tu:PROTEINS", "x/graph.NPZ", "m.csv.gz"]
)
def test_valid_dataset_forms_pass_the_early_check(name):
    assert _names.unknown_dataset(name) is None


def test_a_flag_with_a_wrong_method_names_the_flag(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["explain", "--methods", "nam,sailency", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "error: --methods: method must be one of" in err and "did you mean 'saliency'" in err
    assert not out.exists()


def test_the_loaders_suggest_names_too():
    from jgattr.attribution import get_method
    from jgattr.data import DataError, load_dataset, load_graph_dataset

    with pytest.raises(DataError, match=r"unknown dataset 'ba-shape'.*did you mean 'ba-shapes'"):
        load_dataset("ba-shape")
    with pytest.raises(DataError, match=r"did you mean 'ba-2motifs'"):
        load_graph_dataset("ba-2motif")
    with pytest.raises(ValueError, match=r"got 'n\\u0430m' \(it holds non-ASCII"):
        get_method(CYRILLIC_NAM)

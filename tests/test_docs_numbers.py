"""The measured tables of docs/ pages come from the JSON files named beside them: each table is
rendered again from its JSON (no rerun) and must appear in the page as it is."""

import json

import numpy as np

from tests.conftest import REPO
from tests.test_readme_numbers import _script

RESULTS = REPO / "benchmarks" / "results"


def test_reproduce_md_pope_tables_are_the_reproduce_pope_json():
    page = (REPO / "docs" / "reproduce.md").read_text()
    report = json.loads((RESULTS / "reproduce_pope_cpu_2core.json").read_text())
    module = _script("reproduce_pope")
    for name in ("bbbp", "mutag"):
        table = module.table(report[name], module.PUBLISHED.get(name))
        for line in table.splitlines():
            assert line in page, line
    assert f"The run took {report['wall_seconds']} s" in page
    assert f"Peak RSS was {report['peak_rss_kb'] / 1e6:.1f} GB" in page


def test_reproduce_md_nitro_signs_are_the_nitro_signs_json():
    page = " ".join((REPO / "docs" / "reproduce.md").read_text().split())
    report = json.loads((RESULTS / "nitro_signs_mutag_cpu_2core.json").read_text())
    ig = report["methods"]["integrated_gradients"]
    share = report["share_other_atoms_with_a_positive_component"]
    for text in (
        f"{report['nitro_atoms_predicted_mutagenic']} nitro atoms",
        f"the largest is −{abs(report['max_gradient_component_on_nitro']):.3f}",
        f"{share:.0%} of the other atoms",
        f"signed IG sums to {ig['signed_sum']:.0f}, against {ig['abs_sum']:,.0f}",
    ):
        assert text in page, text
    assert report["max_gradient_component_on_nitro"] < 0 and ig["share_negative"] == 0.3333


def test_graph_methods_md_gin_row_is_the_eb_flatness_json():
    page = (REPO / "docs" / "graph_methods.md").read_text()
    report = json.loads((RESULTS / "eb_flatness_mutag_gin_cpu_2core.json").read_text())
    short = lambda v: np.format_float_positional(v, precision=2, fractional=False)
    flat = report["z_plus_min_over_max"]
    cells = [f"{short(f['median'])} ({short(f['p10'])}–{short(f['p90'])})" for f in flat.values()]
    test = report["trained"]["accuracy"]["test"]
    (row,) = [line for line in page.splitlines() if line.startswith("| GIN 3×64")]
    assert f"epoch {report['trained']['epoch_kept']} kept, test acc. {test:.2f}" in row
    assert f"| {cells[0]} | {cells[1]} | {short(report['z_plus_class_difference_median'])} |" in row


def test_views_md_mutag_numbers_are_the_views_json():
    page = " ".join((REPO / "docs" / "views.md").read_text().split())
    mutag = json.loads((RESULTS / "views_cpu_2core.json").read_text())["mutag"]
    shares = {m: v["mean_share"] for m, v in mutag["nitro_share_of_mutagenic_predictions"].items()}
    names = {"cam": "CAM", "saliency": "saliency", "grad_cam": "Grad-CAM", "ig": "IG"}
    shares["ig"] = shares.pop("integrated_gradients")
    cells = ", ".join(f"{shares[m]:.2f} ({names[m]})" for m in ("cam", "saliency", "grad_cam"))
    assert f"atoms is {cells} and {shares['ig']:.2f} (IG)" in page
    pairs = mutag["agreement"]["pairs"]
    assert f"{pairs['cam|grad_cam']['spearman']['median']:.2f} for CAM against Grad-CAM" in page
    assert f"over the {pairs['cam|grad_cam']['spearman']['n']} graphs" in page
    assert f"reaches {mutag['accuracy']['test']:.2f} test accuracy" in page

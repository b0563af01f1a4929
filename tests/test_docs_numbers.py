"""The measured tables of docs/ pages come from the JSON files named beside them: each table is
rendered again from its JSON (no rerun) and must appear in the page as it is."""

import json

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

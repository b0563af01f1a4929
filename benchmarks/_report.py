"""What every benchmark script does last: print its JSON report and, if asked, write it."""

import json
from pathlib import Path

from jgattr._io import atomic_write_json


def emit(report: dict, out: Path | None) -> int:
    """Print ``report`` as JSON; also write it atomically to ``out`` when given. Returns 0."""
    print(json.dumps(report, indent=2))
    if out:
        atomic_write_json(out, report)
    return 0

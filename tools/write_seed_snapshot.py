"""Record the diversity panel of the packaged seed tasks (tests/snapshots/seed_panel.json).

Run it again only on purpose: when the seed tasks or a metric's definition change."""

import json
from pathlib import Path

from alpaca_course.diversity import diversity_report
from alpaca_course.self_instruct import load_seed_tasks

if __name__ == "__main__":
    report = diversity_report([s.instruction for s in load_seed_tasks()])
    out = Path(__file__).resolve().parent.parent / "tests" / "snapshots" / "seed_panel.json"
    out.write_text(json.dumps({k: round(v[0], 6) for k, v in report.values.items()}, indent=1) + "\n")
    print(report)

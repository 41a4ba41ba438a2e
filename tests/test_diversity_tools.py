import json
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import pytest  # noqa: E402

from alpaca_course import plots, verbnoun  # noqa: E402
from alpaca_course.diversity import diversity_report  # noqa: E402
from alpaca_course.self_instruct import load_seed_tasks, magpie_prefix  # noqa: E402
from alpaca_course.strategies import joke_experiment, near_duplicate_clusters, normalize  # noqa: E402

INSTRUCTIONS = ["Write a poem about the sea.", "Summarize the article in two sentences.",
                "Translate the sentence into French.", "Write a story about a dragon.", "What is the capital of Peru?"]


def test_fallback_verb_noun_reads_imperatives():
    assert verbnoun.fallback_pair("Write a short poem about the sea.") == ("write", "poem")
    assert verbnoun.fallback_pair("What is the capital of Peru?") == (None, None)
    analysis = verbnoun.analyze(INSTRUCTIONS, method="fallback")
    assert analysis.method == "fallback heuristic"
    assert analysis.coverage == pytest.approx(4 / 5)
    assert analysis.top()["write"][0] == ("poem", 1) or analysis.top()["write"][0] == ("story", 1)
    assert analysis.verb_entropy() > 0


def test_spacy_path_when_installed():
    if verbnoun.load_spacy() is None:
        pytest.skip("spaCy English model not installed")
    analysis = verbnoun.analyze(INSTRUCTIONS, method="spacy")
    assert analysis.method.startswith("spaCy")
    assert ("write", "poem") in analysis.pairs and ("translate", "sentence") in analysis.pairs


def test_figures_draw():
    top = verbnoun.analyze([s.instruction for s in load_seed_tasks()], method="fallback").top(8, 3)
    assert len(plots.sunburst(top).axes[0].patches) == sum(len(v) for v in top.values()) + len(top)
    assert plots.nearest_seed_histogram([0.1, 0.5, 0.9]).axes[0].get_xlabel().startswith("ROUGE-L")
    assert len(plots.length_histograms({"instruction": INSTRUCTIONS, "output": INSTRUCTIONS}).axes) == 2
    reports = [diversity_report(INSTRUCTIONS, label="a"), diversity_report(INSTRUCTIONS[::-1], label="b")]
    assert plots.metric_comparison(reports, ["distinct-1", "distinct-2"]).axes[0].get_title() == "distinct-1"


def test_near_duplicate_clusters():
    jokes = ["why did the chicken cross the road to get to the other side", "why did the chicken cross the road",
             "knock knock who is there", "why did the chicken cross the road to get to the other side"]
    clusters = near_duplicate_clusters(jokes)
    assert sorted(map(len, clusters), reverse=True) == [3, 1]
    assert normalize("Why, did the CHICKEN?!") == "why did the chicken"


def test_magpie_prefix_stops_where_the_user_starts(teacher):
    prefix = magpie_prefix(teacher.tokenizer)
    assert prefix.endswith("<|im_start|>user\n") and "QUERY" not in prefix


def test_joke_experiment_on_the_bundled_model(teacher):
    result = joke_experiment(teacher, n=12, batch_size=12, max_new_tokens=32)
    assert len(result.jokes) == 12 and 1 <= result.distinct <= 12
    assert 1 <= result.near_duplicate_groups <= result.distinct
    assert sum(count for _, count in result.top) <= 12 and "distinct" in str(result)


def test_diversity_cli_json(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps({"instruction": t, "input": "", "output": "ok"}) + "\n" for t in INSTRUCTIONS))
    out = subprocess.run([sys.executable, "-m", "alpaca_course", "diversity", str(path), "--json"],
                         capture_output=True, text=True, check=True)
    report = json.loads(out.stdout)
    assert report["n"] == 5 and "distinct-2" in report["metrics"] and report["verb_noun"]["instructions"] == 5

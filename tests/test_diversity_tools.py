import json
import subprocess
import sys

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

from alpaca_course import plots, verbnoun  # noqa: E402
from alpaca_course.diversity import diversity_report  # noqa: E402
from alpaca_course.jokes import (  # noqa: E402
    JokeCondition,
    JokeResult,
    JokeStudy,
    centred_similarity,
    joke_difference,
    joke_experiment,
    joke_requests,
    joke_study,
    looks_like_joke,
    meaning_groups,
    near_duplicate_clusters,
    normalize,
)
from alpaca_course.self_instruct import load_seed_tasks, magpie_prefix  # noqa: E402
from alpaca_course.strategies import (  # noqa: E402
    STRATEGIES,
    StrategyResult,
    run_strategy,
    tradeoff_summary,
)

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
    result = joke_experiment(teacher, n=12, max_new_tokens=32)
    assert len(result.jokes) == 12 and 1 <= result.distinct <= 12 and len(result.finished) == 12
    assert 1 <= result.near_duplicate_groups <= result.distinct
    assert sum(count for _, count in result.top) <= 12 and "distinct" in str(result)


def test_joke_study_on_the_bundled_model(teacher):
    study = joke_study(teacher, n=6, conditions=(("plain", 1.0), ("topic", 1.0)), max_new_tokens=32)
    assert [c.asked for c in study.conditions] == [6, 6] and study.similarity.shape == (12, 12)
    assert study.conditions[1].result.prompts != study.conditions[0].result.prompts  # the same budget, asked differently
    table = study.table()
    assert list(table.index) == ["plain, T=1", "topic, T=1"]
    for c in study.conditions:
        assert 0 <= c.distinct() <= sum(c.coherent) <= 6 and 1 <= c.largest_group() <= 6
        assert all(not ok for ok, done in zip(c.coherent, c.result.finished, strict=True) if not done)
    saw = study.what_we_saw()
    assert "plain, T=1" in saw and "Careful prompting (topic)" in saw


def test_the_joke_form_check():
    assert looks_like_joke("Why did the chicken cross the road? To get to the other side.")
    assert looks_like_joke("I told my plant a joke. It did not laugh, it just grew.")
    assert not looks_like_joke("Aye, aye, auf a lamelace!")
    assert not looks_like_joke("Why did the chicken cross the road? To get to the other side.", finished=False)
    assert not looks_like_joke("Here is a joke about cats that you will enjoy very much")  # no punchline
    assert not looks_like_joke("Why? " + "word " * 80)


def test_meaning_groups_follow_the_threshold():
    offset = np.full(8, 10.0)  # a shared direction, as mean-pooled states of a small LM have
    vectors = np.array([offset + e for e in (np.eye(8)[0], np.eye(8)[0] * 1.1, np.eye(8)[1], np.eye(8)[2])])
    raw = vectors / np.linalg.norm(vectors, axis=1, keepdims=True)
    assert (raw @ raw.T).min() > 0.99  # before centring every pair looks alike
    sim = centred_similarity(vectors)
    assert sorted(map(len, meaning_groups(sim, 0.9)), reverse=True) == [2, 1, 1]
    assert len(meaning_groups(sim, 1.01)) == 4 and len(meaning_groups(sim, -1.0)) == 1


def test_joke_requests():
    assert joke_requests("plain", 3) == ["Tell me a joke."] * 3
    topics = joke_requests("topic", 20, seed=1)
    assert len(topics) == 20 and len(set(topics)) > 10 and all("joke about" in t for t in topics)
    assert joke_requests("persona", 5, seed=1) == joke_requests("persona", 5, seed=1)
    with pytest.raises(ValueError, match="plain, topic or persona"):
        joke_requests("shouting", 3)


def _condition(style: str, texts: list[str], groups: list[int]) -> JokeCondition:
    """A condition whose jokes fall into the given meaning groups (same number: similarity 1, else 0)."""
    sim = np.array([[1.0 if a == b else 0.0 for b in groups] for a in groups])
    result = JokeResult(texts, len(set(texts)), [], [], [True] * len(texts), [])
    return JokeCondition(style, 0.7, result, [looks_like_joke(t) for t in texts], sim, 0.5)


def test_joke_what_we_saw_follows_the_numbers():
    joke = "Why did the cat sit on the laptop? To keep an eye on the mouse."
    same = _condition("plain", [joke] * 30, [0] * 30)
    varied = _condition("topic", [f"Why did cat {i} sit down? Because it was tired." for i in range(30)], list(range(30)))
    change = joke_difference(same, varied)
    assert change.verdict() == "went up" and change.low > 0.5 and "paired" not in change.sentence()
    saw = JokeStudy([same, varied], 0.5, np.eye(60), []).what_we_saw()
    assert "The claim holds here at plain, T=0.7" in saw and "Careful prompting (topic)" in saw and "went up" in saw
    varied_plain = _condition("plain", varied.result.jokes, list(range(30)))
    saw = JokeStudy([varied_plain], 0.5, np.eye(30), []).what_we_saw()
    assert "does not hold" in saw and "30 distinct jokes" in saw


def test_diversity_cli_json(tmp_path):
    path = tmp_path / "d.jsonl"
    path.write_text("".join(json.dumps({"instruction": t, "input": "", "output": "ok"}) + "\n" for t in INSTRUCTIONS))
    out = subprocess.run([sys.executable, "-m", "alpaca_course", "diversity", str(path), "--json"],
                         capture_output=True, text=True, check=True)
    report = json.loads(out.stdout)
    assert report["n"] == 5 and "distinct-2" in report["metrics"] and report["verb_noun"]["instructions"] == 5


class _ListWriter:
    """A scripted teacher: every completion is a numbered list of fresh made-up tasks (no model needed)."""

    name = "scripted"

    def __init__(self, tokenizer):
        from alpaca_course.teachers import Usage

        self.tokenizer, self.usage, self.count = tokenizer, Usage(), 0

    def _text(self) -> str:
        self.count += 1
        return "\n".join(f"{i}. Describe the colour number {self.count * 10 + i} to a friend." for i in range(1, 4))

    def complete(self, prompts, sampling):
        from alpaca_course.teachers import Completion

        return [Completion(self._text(), 1, 1, "stop") for _ in prompts]

    chat = complete


def test_strategies_at_a_fixed_budget_ask_for_the_same_number_of_items(teacher):
    from alpaca_course.profiles import get_profile
    from alpaca_course.self_instruct import generation_settings

    settings = generation_settings(get_profile("quick"))
    scripted = _ListWriter(teacher.tokenizer)
    runs = [run_strategy(scripted, name, 10**6, settings, seed=1, rounds=2) for name in STRATEGIES]
    assert len({(r.prompts, r.slots) for r in runs}) == 1, [(r.name, r.prompts, r.slots) for r in runs]
    assert runs[0].prompts == 2 * settings.batch_size and runs[0].slots == runs[0].prompts * settings.slots_per_prompt()
    for r in runs:
        low, high = r.validity_interval()
        assert r.valid <= r.slots and low <= r.validity <= high
        assert f"{r.valid}/{r.slots}" in r.budget_line()


def test_tradeoff_summary_words_follow_the_numbers():
    base = StrategyResult("list", prompts=16, slots=48, valid=24)
    cheap = StrategyResult("persona", prompts=16, slots=48, valid=22)
    costly = StrategyResult("magpie", prompts=16, slots=48, valid=4)
    text = tradeoff_summary([base, cheap], {"list": 0.80, "persona": 0.90})
    assert "persona, was more diverse than list" in text and "not distinguishable" in text
    text = tradeoff_summary([base, costly], {"list": 0.80, "magpie": 0.95})
    assert "magpie, was more diverse" in text and "validity was lower" in text
    assert "no more diverse" in tradeoff_summary([base, cheap], {"list": 0.9, "persona": 0.8})

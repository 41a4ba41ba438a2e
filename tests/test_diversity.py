import json
import math
from pathlib import Path

import numpy as np
import pytest

from alpaca_course import diversity as d
from alpaca_course.self_instruct import load_seed_tasks

SNAPSHOT = Path(__file__).parent / "snapshots" / "seed_panel.json"


def test_vendi_readme_examples():
    x = np.array([0, 0, 10, 10, 20, 20], dtype=float)
    K = np.exp(-np.abs(x[:, None] - x[None, :]))
    assert d.vendi_score(K) == pytest.approx(2.99999, abs=1e-5)
    assert d.vendi_score(np.array([[1, 0.9, 0], [0.9, 1, 0], [0, 0, 1]])) == pytest.approx(2.1573, abs=1e-4)


@pytest.mark.parametrize("q", [1, 2, math.inf, 0.5])
def test_vendi_extremes(q):
    assert d.vendi_score(np.eye(7), q) == pytest.approx(7)
    assert d.vendi_score(np.ones((5, 5)), q) == pytest.approx(1)


def test_vendi_rejects_bad_shapes():
    with pytest.raises(ValueError, match="square"):
        d.vendi_score(np.ones((2, 3)))


def test_distinct_n_toy_values():
    text = ["the cat sat on the mat the cat sat"]
    assert d.distinct_n(text, 1) == pytest.approx(5 / 9)
    assert d.distinct_n(text, 2) == pytest.approx(6 / 8)
    assert d.distinct_n(["a b", "a b"], 2) == 0.5  # n-grams never cross texts
    assert d.distinct_n(["a"], 2) == 0.0


def test_homogenization_does_not_call_disjoint_texts_homogeneous():
    assert d.homogenization(["a b", "c d", "e f"]) == 0.0
    assert d.homogenization(["same words here"] * 3) == 1.0


def test_compression_ratio_grows_with_repetition():
    varied = ["The quick brown fox.", "Seven lazy dogs sleep.", "Rain falls on Tuesday."]
    assert d.compression_ratio(["hello world"] * 60) > d.compression_ratio(varied)
    assert d.compression_ratio([]) == 0.0


def test_self_repetition_and_ngram_diversity():
    assert d.self_repetition(["a b c d e", "v w x y z"]) == 0.0
    assert d.self_repetition(["a b c d", "a b c d"]) == pytest.approx(math.log(2))
    assert d.ngram_diversity(["a b c d"], num_n=4) == 4.0


def test_self_bleu_matches_nltk_on_the_same_tokens():
    from nltk.translate.bleu_score import SmoothingFunction, sentence_bleu

    texts = [s.instruction for s in load_seed_tasks()[:40]]
    tokens = [d.words(t) for t in texts]
    smooth = SmoothingFunction().method1
    expected = np.mean([sentence_bleu(tokens[:i] + tokens[i + 1:], tok, weights=(1 / 3,) * 3, smoothing_function=smooth)
                        for i, tok in enumerate(tokens)])
    assert d.self_bleu(texts, order=3) == pytest.approx(expected, rel=1e-9)
    assert d.self_bleu(["one two three four"] * 3) == pytest.approx(1.0)


def test_report_at_equal_n_states_n_and_length():
    texts = [s.instruction for s in load_seed_tasks()]
    report = d.diversity_report(texts, n=50, samples=4, seed=1, label="seeds")
    assert report.n == 50 and report.samples == 4 and report.mean_words > 3
    for value, low, high in report.values.values():
        assert low <= value <= high
    assert "N = 50" in str(report) and "<table>" in report._repr_html_()
    assert json.loads(json.dumps(report.to_dict()))["n"] == 50
    with pytest.raises(ValueError, match="only"):
        d.diversity_report(texts[:10], n=20)


def test_seed_panel_matches_the_recorded_snapshot():
    texts = [s.instruction for s in load_seed_tasks()]
    report = d.diversity_report(texts)
    current = {k: round(v[0], 6) for k, v in report.values.items()}
    assert SNAPSHOT.exists(), "run tools/write_seed_snapshot.py once to record the snapshot"
    recorded = json.loads(SNAPSHOT.read_text())
    assert current == pytest.approx(recorded, abs=1e-6)


def test_embeddings_from_the_bundled_model(teacher):
    texts = ["Name a colour.", "Name a colour please.", "Explain how volcanoes erupt in detail."]
    vectors = d.embed_texts(teacher.model, teacher.tokenizer, texts)
    assert vectors.shape[0] == 3 and np.isfinite(vectors).all()
    similarity = d.cosine_gram(vectors)
    assert similarity[0, 1] > similarity[0, 2]
    assert 1 <= d.vendi_score(similarity) <= 3


def test_shared_feature_gram_equals_dense_cosine():
    from collections import Counter

    texts = ["the cat sat", "the dog sat down", "a bird", "cat cat dog", ""]
    counts = [Counter(d.words(t)) for t in texts]
    vocab = sorted({w for c in counts for w in c})
    dense = np.array([[c[w] for w in vocab] for c in counts], dtype=float)
    assert np.allclose(d.count_cosine_gram(counts), d.cosine_gram(dense), atol=1e-12)

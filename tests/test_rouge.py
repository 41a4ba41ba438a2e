"""Fast ROUGE-L must equal rouge_score bit for bit (the novelty filter's 0.7 decisions depend on it)."""

import random

import numpy as np
import pytest
from rouge_score import rouge_scorer

from alpaca_course.rouge import f_measure, rouge_l, rouge_l_matrix, rouge_l_reference, tokenize

WORDS = ("the a cat cats dog ran running runs runner flies fly 3 14 2024 café naïve it's über "
         "über-cool ?! , ... — 你好 αβγ don't 3.14 x").split()

ADVERSARIAL = [
    ("", ""), ("", "a cat"), ("a cat", ""), ("!!!", "???"), ("...", "the cat"), ("你好 世界", "你好 世界"),
    ("café", "cafe"), ("naïve approach", "na ve approach"), ("3.14", "3 14"), ("1,000,000", "1 000 000"),
    ("The CAT sat.", "the cat sat"), ("running runs ran", "run run ran"), ("flies flying", "fly flies"),
    ("a b c d e f g", "a b c d e f g h i j k l m n"),  # L=7, m=7, n=14 -> F = 2/3
    ("a b c d e f g", "a b c d e f g x y z w u v"),   # m=7, n=13: rouge_score 0.7000000000000001 > 0.7
    ("a b c d e f g h i j", "a b c d e f g x y z"),      # p = r = 0.7 exactly: not > 0.7
    ("same same same", "same"), ("tab\tand\nnewline", "tab and newline"),
]


def random_text(rng: random.Random) -> str:
    return " ".join(rng.choices(WORDS, k=rng.randint(0, 14)))


@pytest.mark.parametrize("stemmer", [False, True])
def test_equal_to_rouge_score_on_random_and_adversarial_pairs(stemmer):
    rng = random.Random(1234 + stemmer)
    pairs = ADVERSARIAL + [(random_text(rng), random_text(rng)) for _ in range(3000)]
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=stemmer)
    for target, prediction in pairs:
        expected = scorer.score(target, prediction)["rougeL"].fmeasure
        assert rouge_l(target, prediction, use_stemmer=stemmer) == expected, (target, prediction)
        assert tokenize(target, stemmer) == scorer._tokenizer.tokenize(target)
    for target, prediction in pairs[:400]:
        assert rouge_l_reference(target, prediction, stemmer) == scorer.score(target, prediction)["rougeL"].fmeasure


@pytest.mark.parametrize("stemmer", [False, True])
def test_matrix_equals_rouge_score_pairwise(stemmer):
    rng = random.Random(99)
    targets = [t for t, _ in ADVERSARIAL] + [random_text(rng) for _ in range(60)]
    predictions = [p for _, p in ADVERSARIAL] + [random_text(rng) for _ in range(45)]
    scorer = rouge_scorer.RougeScorer(["rougeL"], use_stemmer=stemmer)
    matrix = rouge_l_matrix(targets, predictions, use_stemmer=stemmer)
    assert matrix.shape == (len(targets), len(predictions)) and matrix.dtype == np.float64
    for i, target in enumerate(targets):
        for j, prediction in enumerate(predictions):
            assert matrix[i, j] == scorer.score(target, prediction)["rougeL"].fmeasure


def test_the_shortcut_formula_is_not_identical():
    # 2L/(m+n) looks equal but rounds differently: here it would keep a candidate rouge_score rejects.
    assert f_measure(7, 7, 13) > 0.7
    assert 2 * 7 / (7 + 13) == 0.7
    assert rouge_l("a b c d e f g", "a b c d e f g x y z w u v") > 0.7


def test_nearest_rouge_is_the_best_score_against_the_pool():
    from alpaca_course.diversity import nearest_rouge

    pool = ["Write a poem about the sea.", "Sort these numbers.", "Explain how rain forms."]
    queries = ["Write a short poem about the sea.", "Explain how snow forms."]
    assert nearest_rouge(queries, pool).tolist() == [max(rouge_l(p, q) for p in pool) for q in queries]
    assert nearest_rouge(queries[:1], pool)[0] == rouge_l(pool[0], queries[0])

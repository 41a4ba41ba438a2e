import pytest

from alpaca_course.constraints import SEEN_KINDS
from alpaca_course.evaluation import pairwise_judge, score_responses, template_adherence, win_rate
from alpaca_course.verifier import CHECKS, check, load_eval_prompts, sentence_count, word_count

# kind -> (arguments, a passing response, a failing response)
CASES = {
    "max_words": ({"n": 5}, "One two three four five.", "One two three four five six."),
    "min_words": ({"n": 4}, "This has four words.", "Too short."),
    "max_sentences": ({"n": 2}, "First one. Second one!", "One. Two. Three?"),
    "bullets": ({"n": 3}, "- a\n- b\n* c", "- a\n- b"),
    "numbered": ({"n": 2}, "1. Rome\n2) Paris", "1. Rome\n2. Paris\n3. Oslo"),
    "json": ({}, '{"city": "Tokyo"}', "city: Tokyo"),
    "keywords": ({"words": ["leaves", "harvest"]}, "Leaves fall at harvest time.", "Leaves fall."),
    "forbidden": ({"words": ["blue"]}, "The sea is deep and wide.", "The sea is Blue."),
    "lowercase": ({}, "all quiet here.", "All quiet here."),
    "uppercase": ({}, "CAUTION: WET FLOOR!", "Caution: WET FLOOR!"),
    "ends_with": ({"phrase": "The end."}, "They found it. The end.", "The end. They found it."),
    "starts_with": ({"phrase": "Dear friend,"}, "Dear friend, thank you!", "Hi, dear friend, thanks!"),
    "paragraphs": ({"n": 2}, "One para.\n\nTwo para.", "One para.\nStill one."),
    "title": ({}, "<<Rain>>\nDrops fall.", "Rain\nDrops fall."),
    "no_commas": ({}, "Boil water then pour it", "Boil water, then pour it"),
    "quoted": ({}, '"Summer, because it is warm."', "Summer, because it is warm."),
    "postscript": ({}, "Water the plants.\n\nP.S. Not too much.", "Water the plants. PS not too much."),
    "separator": ({}, "Tea.\n******\nCoffee.", "Tea.\n******\nCoffee.\n******\nJuice."),
    "sections": ({"n": 2}, "SECTION 1\nSoil.\n\nSECTION 2\nWater.", "Section 1: soil. SECTION 2 water."),
    "capital_words": ({"n": 2}, "This is VERY, VERY hot.", "This is Very hot, I think."),
    "placeholders": ({"n": 2}, "Dear [name], see you at [place].", "Dear [name], see you soon."),
    "highlights": ({"n": 1}, "This is *the key step*.", "This is **bold** only."),
}


def test_every_kind_has_a_case():
    assert set(CASES) == set(CHECKS) and len(CHECKS) >= 12


@pytest.mark.parametrize("kind", sorted(CASES))
def test_check_passes_and_fails(kind):
    args, good, bad = CASES[kind]
    spec = {"kind": kind, **args}
    assert check(good, spec), good
    assert not check(bad, spec), bad


def test_loose_forgives_a_chatty_first_line_and_markdown():
    spec = {"kind": "starts_with", "phrase": "Step 1:"}
    response = "Sure! Here is how:\nStep 1: dig a hole."
    assert not check(response, spec) and check(response, spec, loose=True)
    assert check("**all lowercase**", {"kind": "lowercase"}, loose=True)


def test_counting_helpers():
    assert word_count("It's a well-known fact, isn't it?") == 6
    assert sentence_count("One. Two! Three? four") == 4


def test_unknown_kind_is_named():
    with pytest.raises(ValueError, match="unknown check kind 'rhymes'"):
        check("x", {"kind": "rhymes"})


def test_packaged_prompts_cover_the_kinds():
    prompts = load_eval_prompts()
    assert len(prompts) >= 60
    kinds = {c["kind"] for p in prompts for c in p.checks}
    assert kinds == set(SEEN_KINDS)  # hand-written prompts are dev material: no kind held out for test


def test_scoring_and_adherence():
    prompts = load_eval_prompts(limit=2)
    scores = score_responses(prompts, ["A lighthouse glows.", "too short"])
    assert scores.prompt_strict == 0.5 and scores.check_strict == 0.5
    assert template_adherence(["ok", "ok ### Instruction: more"], [True, True]) == 0.5
    assert template_adherence(["ok"], [False]) == 0.0


def test_pairwise_judge_swaps_positions():
    class AlwaysA:
        def chat(self, conversations, sampling):
            from alpaca_course.teachers import Completion

            return [Completion("A", 1, 1, "stop") for _ in conversations]

    # A judge that always says "A" prefers whatever comes first: swapping exposes it as a tie.
    assert pairwise_judge(AlwaysA(), "Say hi.", "hi", "hello") == 0.5
    assert win_rate([1.0, 0.5, 0.0, 0.5]) == 0.5


def test_side_by_side_finds_each_answer_by_its_prompt_not_its_position():
    from alpaca_course.evaluation import scored_report, side_by_side
    from alpaca_course.verifier import EvalPrompt

    prompts = [EvalPrompt(f"p{i}", f"Question {i}?", [{"kind": "lowercase"}]) for i in range(3)]
    before = scored_report("base", "chat", prompts, ["Answer zero", "answer one", "Answer two"], [True] * 3)
    after = scored_report("student", "chat", prompts, ["answer zero", "Answer one", "answer two"], [True] * 3)
    text = side_by_side([prompts[2], prompts[0]], before, after)  # a subset, out of order
    first, second = text.split("\n* ")
    assert "Question 2?" in first and "'Answer two'" in first and "after  [pass]: 'answer two'" in first
    assert "Question 0?" in second and "before [fail]: 'Answer zero'" in second
    with pytest.raises(ValueError, match="not among"):
        side_by_side([EvalPrompt("other", "?", [])], before, after)

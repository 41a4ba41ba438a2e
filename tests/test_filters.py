from alpaca_course.filters import (
    NOVELTY,
    NoveltyFilter,
    apply_rules,
    blacklisted,
    first_broken_rule,
)
from alpaca_course.rouge import rouge_l


def test_each_rule_catches_its_case():
    cases = {
        "Say hi.": "too short (<4 words)",
        " ".join(["word"] * 151): "too long (>150 words)",
        "Describe the image in detail please.": "blacklisted word",
        "Write a program that sorts numbers quickly.": "starts 'Write a program'",
        "- List three kinds of cheese.": "starts with punctuation",
        "Ünderline the main verb here.": "starts with non-ASCII",
        "Suggest three names for a bakery.": None,
    }
    for text, rule in cases.items():
        assert first_broken_rule(text) == rule, text


def test_blacklist_matches_whole_words_only():
    assert blacklisted("Please go to the shop now.") and blacklisted("Plot the DATA")
    assert not blacklisted("Describe the mapping between sets.") and not blacklisted("Explain profiles.")


def test_funnel_counts_add_up():
    texts = ["Say hi.", "Describe the diagram below carefully.", "Suggest three names for a bakery."]
    passed, funnel = apply_rules(texts)
    assert passed == [2] and funnel.entered == 3 and funnel.kept == 1
    assert funnel.rows()[-1][2] == 1 and "blacklisted word" in str(funnel)
    assert funnel.removed[NOVELTY] == 0


def test_novelty_filter_is_sequential_and_exact():
    seeds = ["Suggest three names for a small bakery."]
    novelty = NoveltyFilter(seeds)
    candidates = [
        "Suggest three names for a small bakery!",   # same tokens as a seed: 1.0
        "Explain how rainbows form in the sky.",      # new
        "Explain how rainbows form in the sky today.",  # close to the previous candidate, kept earlier in the batch
        "List four uses for an old glass jar.",       # new
    ]
    verdicts = novelty.admit(candidates)
    assert [v["kept"] for v in verdicts] == [False, True, False, True]
    assert verdicts[2]["max_rouge"] == rouge_l(candidates[1], candidates[2])
    assert verdicts[2]["most_similar"][0][0] == candidates[1]
    assert len(novelty.texts) == 3  # kept ones joined the pool


def test_threshold_is_inclusive_at_exactly_point_seven():
    novelty = NoveltyFilter(["a b c d e f g h i j"])
    assert novelty.admit(["a b c d e f g x y z"])[0]["kept"]  # F == 0.7 exactly: kept
    novelty = NoveltyFilter(["a b c d e f g"])
    assert not novelty.admit(["a b c d e f g x y z w u v"])[0]["kept"]  # 0.7000000000000001: dropped


def test_commit_false_leaves_the_pool_alone():
    novelty = NoveltyFilter(["Name a colour of the rainbow."])
    novelty.admit(["Explain how tides work on Earth."], commit=False)
    assert novelty.texts == ["Name a colour of the rainbow."]

import numpy as np
import pytest

from alpaca_course.collapse import (
    GenerationStats,
    as_dicts,
    compare_modes,
    default_split,
    gaussian_collapse,
    loop_changes,
    rare_tokens,
    self_training_loop,
    self_training_loops,
    stats_table,
    what_we_saw,
)
from alpaca_course.finetune import FinetuneConfig
from alpaca_course.losses import summed_losses
from alpaca_course.plots import plot_loop
from alpaca_course.self_instruct import load_seed_tasks
from alpaca_course.stats import paired_change


def test_replacing_data_shrinks_the_spread_and_accumulating_does_not():
    replace = [gaussian_collapse(300, 10, "replace", seed=s)["std"][-1] for s in range(20)]
    accumulate = [gaussian_collapse(300, 10, "accumulate", seed=s)["std"][-1] for s in range(20)]
    assert np.median(replace) < 0.3 < 0.7 < np.median(accumulate)
    with pytest.raises(ValueError, match="replace"):
        gaussian_collapse(mode="forget")


@pytest.mark.slow
def test_self_training_is_tracked_and_the_modes_share_generations_0_and_1():
    instructions, real = default_split(n_instructions=8)
    seeds = {s.instruction: s for s in load_seed_tasks()}
    assert len(instructions) == 8 and all(not seeds[i].input for i in instructions)
    assert not set(instructions) & {r.instruction for r in real}  # answers never come from the held-out text
    config = FinetuneConfig(max_steps=2, batch_size=4, max_length=128)
    loops = self_training_loops(instructions, real[:8], generations=2, config=config, max_new_tokens=24,
                                progress=False)
    stats = loops["replace"][:2]
    for generation in (0, 1):  # both modes train generation 1 on generation 0's samples: one shared run
        assert loops["replace"][generation].samples == loops["accumulate"][generation].samples
        assert loops["replace"][generation].record_losses == loops["accumulate"][generation].record_losses
    assert [s.mode for s in loops["accumulate"]] == ["accumulate"] * 3
    assert [s.generation for s in stats] == [0, 1]
    for s in stats:
        assert 0 < s.distinct_2 <= 1 and 0 <= s.self_bleu <= 1 and s.held_out_loss > 0 and len(s.samples) == 8
    assert "| 1 |" in stats_table(stats) and "samples" not in as_dicts(stats)[0]
    assert len(stats[0].record_losses) == 8 and all(tokens > 0 for _, tokens in stats[0].record_losses)
    total = sum(t for t, _ in stats[0].record_losses) / sum(c for _, c in stats[0].record_losses)
    assert total == pytest.approx(stats[0].held_out_loss)
    changes = loop_changes(stats)
    assert [c.n for c in changes] == [8, 8, 8] and all(c.low <= c.difference <= c.high for c in changes)
    assert "rare tokens" in changes[2].name and all(s.mode == "replace" and s.rare_loss > 0 for s in stats)
    rare = sum(c for _, c in stats[0].rare_losses)
    assert 0 < rare < sum(c for _, c in stats[0].record_losses)  # the tail is a part of the real text
    assert len(plot_loop(stats).axes) == 4
    with pytest.raises(ValueError, match="replace' or 'accumulate"):
        self_training_loop(instructions, real[:8], mode="forget")


def test_rare_tokens_are_those_seen_once():
    per_token = [([1, 2, 3], [0.1, 0.2, 0.3]), ([2, 4], [0.5, 0.6])]
    assert rare_tokens(per_token) == {1, 3, 4}
    assert summed_losses(per_token, {1, 3, 4}) == [(pytest.approx(0.4), 2), (pytest.approx(0.6), 1)]
    assert summed_losses(per_token)[1] == (pytest.approx(1.1), 2)


def test_the_loop_summary_is_worded_by_its_intervals_on_both_outcomes():
    same = ["the cat sat on the mat today", "a dog ran in the park at noon"] * 10
    narrower = ["the cat sat on the mat"] * 20
    unchanged = paired_change("distinct-2", same, same, lambda t: len(set(t)) / len(t), "instructions")
    assert unchanged.verdict() == "no detectable change" and unchanged.low == unchanged.high == 0
    dropped = paired_change("loss", [(3.0, 1)] * 30, [(2.0, 1)] * 15 + [(2.5, 1)] * 15,
                            lambda r: sum(t for t, _ in r) / sum(c for _, c in r), "records")
    assert dropped.verdict() == "went down" and dropped.high < 0
    stats = [GenerationStats(0, 0.9, 0.1, 10, 3.0, same), GenerationStats(3, 0.2, 0.9, 6, 2.0, narrower)]
    changes = loop_changes(stats)
    text = what_we_saw(stats, changes)
    assert "distinct-2 of the answers went down" in text and "no detectable change: a null" not in text
    assert "no detectable change: a null result" in what_we_saw(stats, [unchanged])
    with pytest.raises(ValueError, match="same"):
        paired_change("x", [1], [1, 2], len, "items")


def test_accumulate_against_replace_is_paired_over_the_same_items():
    narrow = GenerationStats(5, 0.1, 0.9, 3, 3.0, ["the cat sat"] * 10, [], 3.0, [(3.0, 1)] * 10, "replace")
    varied = GenerationStats(5, 0.9, 0.1, 3, 2.0, [f"word{i} other{i} thing{i}" for i in range(10)], [], 2.0,
                             [(2.0, 1)] * 10, "accumulate")
    diversity, tail = compare_modes(narrow, varied)
    assert diversity.verdict() == "went up" and tail.verdict() == "went down" and tail.n == 10
    assert "accumulate against replace" in tail.name
    assert "What we saw (accumulate)" in what_we_saw([narrow, varied], [diversity, tail])


def test_the_loop_speaks_from_a_half_precision_copy_and_keeps_training_weights_float32():
    import torch

    from alpaca_course.collapse import speaking_copy
    from alpaca_course.models import load_model
    from alpaca_course.profiles import generation_dtype

    model, _ = load_model("bundled", device="cpu", dtype="float32")
    speaker = speaking_copy(model)
    assert next(model.parameters()).dtype == torch.float32  # the weights that train are never rounded
    if generation_dtype("cpu") == "bfloat16":
        assert speaker is not model and next(speaker.parameters()).dtype == torch.bfloat16
    else:
        assert speaker is model
    assert speaking_copy(speaker) is speaker  # already in the generation precision: no copy


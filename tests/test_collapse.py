import numpy as np
import pytest

from alpaca_course.collapse import (
    as_dicts,
    default_split,
    gaussian_collapse,
    self_training_loop,
    stats_table,
)
from alpaca_course.finetune import FinetuneConfig
from alpaca_course.plots import plot_gaussian, plot_loop
from alpaca_course.self_instruct import load_seed_tasks


def test_replacing_data_shrinks_the_spread_and_accumulating_does_not():
    replace = [gaussian_collapse(300, 10, "replace", seed=s)["std"][-1] for s in range(20)]
    accumulate = [gaussian_collapse(300, 10, "accumulate", seed=s)["std"][-1] for s in range(20)]
    assert np.median(replace) < 0.3 < 0.7 < np.median(accumulate)
    with pytest.raises(ValueError, match="replace"):
        gaussian_collapse(mode="forget")
    fig = plot_gaussian({"replace": gaussian_collapse(50), "accumulate": gaussian_collapse(50, mode="accumulate")})
    assert len(fig.axes[0].lines) == 3


@pytest.mark.slow
def test_one_generation_of_self_training_is_tracked():
    instructions, real = default_split(n_instructions=8)
    seeds = {s.instruction: s for s in load_seed_tasks()}
    assert len(instructions) == 8 and all(not seeds[i].input for i in instructions)
    assert not set(instructions) & {r.instruction for r in real}  # answers never come from the held-out text
    config = FinetuneConfig(max_steps=2, batch_size=4, max_length=128)
    stats = self_training_loop(instructions, real[:8], generations=1, config=config, max_new_tokens=24,
                               progress=False)
    assert [s.generation for s in stats] == [0, 1]
    for s in stats:
        assert 0 < s.distinct_2 <= 1 and 0 <= s.self_bleu <= 1 and s.held_out_loss > 0 and len(s.samples) == 8
    assert "| 1 |" in stats_table(stats) and "samples" not in as_dicts(stats)[0]
    assert len(plot_loop(stats).axes) == 3

"""Ways to fight the teacher's habit of repeating itself (the joke study that shows the habit is in `jokes`).

Strategies (each yields candidate instructions that are then parsed and filtered alike):
- `list`: Alpaca's list continuation from sampled seed tasks (the baseline).
- `chat`: the same request phrased as a chat turn.
- `persona`: the list prompt told who is asking (one of 100+ packaged personas), as in Persona Hub.
- `topic`: the list prompt told what the tasks are about (one of 100+ packaged topics).
- `magpie`: no demonstrations at all: the chat template up to the start of a user turn, and the
  model writes the user's request itself (Magpie's "pre-query template").
- `temperature`: the list prompt at another sampling temperature (a sweep).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from .filters import Funnel
from .resources import load_lines, load_seed_tasks
from .self_instruct import HEADER, GenerationSettings, generation_round, pick_demos
from .stats import wilson_interval
from .teachers import Teacher

STRATEGIES = ("list", "chat", "persona", "topic", "magpie")
STYLE = {"list": "alpaca", "persona": "alpaca", "topic": "alpaca", "chat": "chat", "magpie": "magpie",
         "temperature": "alpaca"}


def persona_header(persona: str) -> str:
    """The list header, told who will ask for these tasks."""
    return HEADER.replace("Write a numbered list", f"The tasks below are requests from {persona}.\nWrite a numbered list")


def topic_header(topic: str) -> str:
    """The list header, told what the tasks are about."""
    return HEADER.replace("Write a numbered list", f"Every task below is about {topic}.\nWrite a numbered list")


@dataclass
class StrategyResult:
    """Instructions a strategy produced, and how many of its item slots came back valid."""

    name: str
    instructions: list[str] = field(default_factory=list)
    prompts: int = 0  # prompts sent
    slots: int = 0  # items asked for
    parsed: int = 0  # items that parsed
    valid: int = 0  # items that passed the rule filters and were not repeats

    @property
    def validity(self) -> float:
        """Share of asked-for items that parsed, passed the rule filters and were new (before any cut to N)."""
        return self.valid / self.slots if self.slots else 0.0

    def validity_interval(self) -> tuple[float, float]:
        """Wilson's 95% interval for the validity (valid of asked-for slots)."""

        return wilson_interval(self.valid, self.slots)

    def budget_line(self) -> str:
        """'valid/slots = rate [low, high] from P prompts': validity with its n and interval."""
        low, high = self.validity_interval()
        return f"{self.valid}/{self.slots} = {self.validity:.2f} [{low:.2f}, {high:.2f}] from {self.prompts} prompts"


def run_strategy(teacher: Teacher, name: str, n: int, settings: GenerationSettings, seed: int = 0,
                 temperature: float | None = None, rounds: int | None = None, max_rounds: int = 12) -> StrategyResult:
    """Collect valid instructions with one strategy; at most n are kept, validity counts every round.

    With `rounds` the budget is fixed (that many rounds of `batch_size` prompts, whatever comes back),
    which is how strategies are compared fairly; otherwise rounds run until n are found or `max_rounds`.
    """
    if name not in STYLE:
        raise ValueError(f"unknown strategy {name!r}; choose from {', '.join(STRATEGIES)}, temperature")
    rng = random.Random(seed)
    seeds, personas, topics = load_seed_tasks(), load_lines("personas.txt"), load_lines("topics.txt")
    settings = replace(settings, prompt_style=STYLE[name],
                       temperature=settings.temperature if temperature is None else temperature)
    result = StrategyResult(name if temperature is None else f"{name} {temperature:g}")
    for round_index in range(rounds if rounds is not None else max_rounds):
        if rounds is None and len(result.instructions) >= n:
            break
        demos = [pick_demos(rng, seeds, [], settings) for _ in range(settings.batch_size)]
        headers = [persona_header(rng.choice(personas)) if name == "persona" else
                   topic_header(rng.choice(topics)) if name == "topic" else HEADER for _ in demos]
        round_ = generation_round(teacher, demos, settings, seed * 1000 + round_index, Funnel(), headers=headers,
                                  answer=False)
        result.prompts += round_.prompts
        result.slots += round_.slots
        result.parsed += len(round_.candidates)
        for candidate, _ in round_.novel:
            if candidate.instruction not in result.instructions:
                result.valid += 1
                result.instructions.append(candidate.instruction)
    result.instructions = result.instructions[:n]
    return result


def tradeoff_summary(runs: Sequence[StrategyResult], diversity: dict[str, float], baseline: str = "list") -> str:
    """'What we saw' for the strategies: which bought the most diversity over the baseline, and at what validity.

    Validities are compared by their Wilson intervals: "lower" or "higher" only when the intervals do
    not overlap, otherwise "not distinguishable at this budget".
    """
    by_name = {r.name: r for r in runs}
    if baseline not in diversity or len(diversity) < 2:
        return "What we saw: too few strategies kept enough instructions to compare."
    best = max((n for n in diversity if n != baseline), key=diversity.get)
    gain = diversity[best] - diversity[baseline]
    (b_low, b_high), (r_low, r_high) = by_name[best].validity_interval(), by_name[baseline].validity_interval()
    price = ("lower" if b_high < r_low else "higher" if b_low > r_high else "not distinguishable at this budget")
    verdict = "more diverse than" if gain > 0 else "no more diverse than"
    return (f"What we saw: the most diverse other strategy, {best}, was {verdict} {baseline} "
            f"(distinct-2 {diversity[best]:.3f} against {diversity[baseline]:.3f}); its validity was {price} "
            f"({by_name[best].budget_line()} against {by_name[baseline].budget_line()}).")

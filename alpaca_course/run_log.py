"""A generation run's log (FILE.run.json beside the output) and the reports written from it.

The log holds the recipe (teacher, seed, settings, seed file) and the counts of every round: how many prompts,
parsed candidates, records written, tokens, and the funnel of what each rule removed. A resume must use the same
recipe (`refuse_another_recipe`), so a file's provenance stays true; the reports (`describe_run`, `what_we_saw`)
are written from the counts alone.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from .data import DataError, loads_strict
from .filters import TRUNCATED, Funnel

if TYPE_CHECKING:  # only for the type hints: self_instruct imports this module
    from .self_instruct import GenerationSettings, Round
    from .teachers import Teacher


@dataclass
class RunLog:
    """What a generation run did, kept beside the output file as FILE.run.json."""

    settings: dict
    teacher: str
    seed: int
    batches: int = 0
    prompts: int = 0
    parsed: int = 0
    written: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    funnel: dict = field(default_factory=dict)
    seed_tasks: str = "packaged"  # or the seed file the run was given

    def yield_per_prompt(self) -> float:
        """Finished records per prompt sent."""
        return self.written / self.prompts if self.prompts else 0.0

    def record_round(self, round_: Round, written: int, funnel: Funnel, teacher: Teacher) -> None:
        """Add one round's counts (and the teacher's running token totals)."""
        usage = getattr(teacher, "usage", None)
        self.batches, self.prompts, self.parsed = self.batches + 1, self.prompts + round_.prompts, \
            self.parsed + len(round_.candidates)
        self.written = written
        self.prompt_tokens = usage.prompt_tokens if usage else 0
        self.completion_tokens = usage.completion_tokens if usage else 0
        self.funnel = {"entered": funnel.entered, "removed": funnel.removed}


def run_log_path(out: Path) -> Path:
    """Where the run log of an output file lives."""
    return out.with_name(out.name + ".run.json")


def refuse_another_recipe(out: Path, log: RunLog, teacher: str, seed: int, settings: GenerationSettings,
                          seed_tasks: str) -> None:
    """Stop a resume that would mix recipes in one file: each record's provenance must stay true.

    The run log records one teacher, seed, setting and seed file for the whole file; records written
    by another teacher under the old log would be mislabelled (and a dataset card would miss that
    teacher's terms). So a resume must use the same ones, or write to a new file.
    """
    asked = {"teacher": teacher, "seed": seed, "seed_tasks": seed_tasks,
             "settings": json.loads(json.dumps(asdict(settings)))}
    for name, value in asked.items():
        had = getattr(log, name)
        if had != value:
            if name == "settings":
                key = next(k for k in sorted(set(had) | set(value)) if had.get(k) != value.get(k))
                name, had, value = f"settings.{key}", had.get(key), value.get(key)
            raise DataError(run_log_path(out), None, name, f"{out.name} was written with {name} {had!r}, this run asks "
                                                           f"for {value!r}; resume with the same {name}, or write to a "
                                                           "new file (one file, one recipe: its provenance stays true)")


def describe_run(log: RunLog) -> str:
    """The funnel, the yield and the tokens of a run, with what an API would have charged for them."""
    from .teachers import estimate_cost

    lines = [str(funnel_from_log(log)), f"prompts sent: {log.prompts}, yield per prompt: {log.yield_per_prompt():.2f} records"]
    if log.prompt_tokens + log.completion_tokens:
        dollars = estimate_cost(log.prompt_tokens, log.completion_tokens)
        lines.append(f"tokens: {log.prompt_tokens:,} prompt + {log.completion_tokens:,} completion; at "
                     f"text-davinci-003's 2023 price that would be ${dollars:.2f} "
                     f"(${dollars / max(log.written, 1) * 52_002:,.0f} for 52,002 records)")
    return "\n".join(lines)


def what_we_saw(log: RunLog) -> str:
    """'What we saw' in a generation run, from its own counts: where the asked-for slots went, with Wilson intervals."""
    from .self_instruct import GenerationSettings
    from .stats import wilson_interval

    def share(k: int, n: int) -> str:
        low, high = wilson_interval(k, n)
        return f"{k} of {n} ({k / max(n, 1):.0%}, 95% interval {low:.0%} to {high:.0%})"

    known = {k: v for k, v in log.settings.items() if k in GenerationSettings.__dataclass_fields__}
    slots = log.prompts * GenerationSettings(**known).slots_per_prompt()
    funnel = funnel_from_log(log)
    rows = funnel.rows()
    reached = {name: left + removed for name, removed, left in rows[1:]}
    worst, removed, _ = max(rows[1:], key=lambda r: r[1] / max(reached[r[0]], 1))
    lines = [f"- Records written: {share(log.written, slots)} of the slots asked for ({log.prompts} prompts).",
             f"- The teacher wrote a parseable new task in {share(log.parsed, slots)} slots.",
             f"- The rule that removed the largest share of what reached it: '{worst}', {share(removed, reached[worst])}."]
    if reached.get(TRUNCATED):
        lines.append(f"- Answers still cut at the token limit: {share(funnel.removed[TRUNCATED], reached[TRUNCATED])} "
                     "of those answered.")
    return "\n".join(lines)


def funnel_from_log(log: RunLog) -> Funnel:
    """The funnel counts stored in a run log."""
    funnel = Funnel()
    funnel.entered = log.funnel.get("entered", 0)
    funnel.removed.update(log.funnel.get("removed", {}))
    return funnel


def read_run_log(out: str | Path) -> RunLog:
    """Load FILE.run.json for an output file; a damaged log is a DataError that names it."""
    path = run_log_path(Path(out))
    try:
        data = loads_strict(path.read_bytes(), path)
    except FileNotFoundError:
        raise DataError(path, None, None, "run log not found") from None
    if not isinstance(data, dict):
        raise DataError(path, None, None, f"expected a JSON object, got {type(data).__name__}")
    counts = ("batches", "prompts", "parsed", "written", "prompt_tokens", "completion_tokens")
    for name, kind in (("settings", dict), ("funnel", dict), ("teacher", str), ("seed_tasks", str), ("seed", int),
                       *((c, int) for c in counts)):
        value = data.get(name)
        if name in data and (not isinstance(value, kind) or isinstance(value, bool)):
            raise DataError(path, None, name, f"expected {kind.__name__}, got {type(value).__name__}")
        if name in counts and value is not None and value < 0:
            raise DataError(path, None, name, f"must not be negative, got {value}")
    removed = data.get("funnel", {}).get("removed", {})
    if not isinstance(removed, dict) or not all(isinstance(v, int) and not isinstance(v, bool)
                                                for v in removed.values()):
        raise DataError(path, None, "funnel.removed", "expected an object of reason -> count")
    known = {f for f in RunLog.__dataclass_fields__}
    for name in ("settings", "teacher", "seed"):
        if name not in data:
            raise DataError(path, None, name, "is missing")
    try:
        return RunLog(**{k: v for k, v in data.items() if k in known})
    except TypeError as err:
        raise DataError(path, None, None, f"not a run log: {err}") from None

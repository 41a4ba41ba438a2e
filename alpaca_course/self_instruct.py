"""The Self-Instruct / Alpaca generation loop: prompt, generate, parse, filter, answer, append.

One round ("batch"): build `batch_size` prompts, each showing a few sampled seed tasks as a
numbered list and ending where the next item should start; let the teacher continue the lists;
parse the new items; run the filter funnel and the ROUGE-L novelty filter; ask the teacher to
write the output of each surviving instruction (instance generation); append the finished
records to the output file. Rounds repeat until the file holds `n` records.

Every setting is a field of `GenerationSettings`; its defaults are Alpaca's.
"""

from __future__ import annotations

import json
import math
import random
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from .data import (
    InstructionRecord,
    append_jsonl,
    atomic_write_text,
    records_to_extend,
)
from .filters import (
    NOVELTY,
    ROUGE_THRESHOLD,
    TRUNCATED,
    Funnel,
    NoveltyFilter,
    apply_rules,
    first_broken_output_rule,
)
from .resources import load_seed_tasks
from .rouge import tokenize
from .run_log import RunLog, funnel_from_log, read_run_log, refuse_another_recipe, run_log_path
from .teachers import Sampling, Teacher

NO_INPUT = "<noinput>"


@dataclass(frozen=True)
class GenerationSettings:
    """Everything the loop can vary. Defaults follow Alpaca's generate_instruction.py."""

    num_prompt_instructions: int = 3  # seed tasks shown in each prompt
    num_machine_instructions: int = 0  # generated tasks shown too (Self-Instruct: 2; Alpaca: 0)
    list_size: int = 20  # the prompt asks for a list this long; the teacher stops before its last number
    max_new_per_prompt: int | None = None  # stop sooner (small models ramble after the first items)
    batch_size: int = 5  # prompts per request
    temperature: float = 1.0
    top_p: float = 1.0
    presence_penalty: float = 0.0  # only API teachers apply it
    max_new_tokens: int = 3072
    prompt_style: str = "alpaca"  # "alpaca": plain list continuation; "chat": the same request as a chat turn
    rouge_threshold: float = ROUGE_THRESHOLD
    output_max_new_tokens: int = 256
    output_temperature: float = 0.7
    output_top_p: float = 0.9
    # Alpaca's prompt asked for outputs under 100 words; a system turn asks a chat teacher the same ("": none).
    output_system: str = "Answer in fewer than 100 words, and finish your answer."
    regenerate_cut: bool = True  # ask once more, at twice the budget, for an answer cut at the token limit

    def first_number(self) -> int:
        """The number of the first new item: after the seed and the machine demonstrations."""
        return self.num_prompt_instructions + self.num_machine_instructions + 1

    def stop_number(self) -> int:
        """The item number at which generation stops."""
        first_new = self.first_number()
        limit = self.list_size if self.max_new_per_prompt is None else first_new + self.max_new_per_prompt
        return min(limit, self.list_size)

    def slots_per_prompt(self) -> int:
        """New items each prompt asks for (the same count for every prompt style)."""
        return self.stop_number() - self.first_number()

    def stop_strings(self) -> tuple[str, ...]:
        """Where a completion is cut: the start of the item numbered `stop_number()`."""
        return (f"\n{self.stop_number()}.", f"\n{self.stop_number()} .")

    def sampling(self, seed: int) -> Sampling:
        """Decoding settings for a batch of instruction prompts."""
        return Sampling(max_new_tokens=self.max_new_tokens, temperature=self.temperature, top_p=self.top_p,
                        stop=self.stop_strings(), seed=seed, presence_penalty=self.presence_penalty)

    def output_sampling(self, seed: int) -> Sampling:
        """Decoding settings for writing the outputs (instance generation)."""
        return Sampling(max_new_tokens=self.output_max_new_tokens, temperature=self.output_temperature,
                        top_p=self.output_top_p, seed=seed)


ALPACA = GenerationSettings()
SELF_INSTRUCT = GenerationSettings(num_prompt_instructions=6, num_machine_instructions=2, list_size=16,
                                   temperature=0.7, top_p=0.5, presence_penalty=2.0, max_new_tokens=1024)


def generation_settings(profile, base: GenerationSettings = ALPACA, teacher: str | None = None) -> GenerationSettings:
    """Alpaca's settings adjusted for the profile's teacher and sizes.

    A 135M model sampled at temperature 1.0 writes noise after the first item or two, so for
    the bundled teacher we sample cooler and stop after two new items (the lesson shows why).
    Pass `teacher` (the loaded teacher's name) when a Hub teacher may have fallen back to the bundled one,
    or the served model's name for an API teacher (the bundled model served by vLLM gets the same settings).
    """
    from .models import is_bundled_model

    changes = {"batch_size": profile.gen_batch_size, "output_max_new_tokens": min(base.output_max_new_tokens, 160)}
    if is_bundled_model(teacher or profile.teacher):
        changes.update(temperature=0.7, top_p=0.9, max_new_per_prompt=2, max_new_tokens=96, output_max_new_tokens=96)
    else:
        changes.update(max_new_tokens=min(base.max_new_tokens, profile.max_new_tokens))
    return replace(base, **changes)


# --- prompting -----------------------------------------------------------------------------------

HEADER = (
    "Write a numbered list of {list_size} varied tasks that a helpful assistant could complete with text alone. "
    "Mix questions and commands, use a different verb for each task, and keep each one to one or two sentences. "
    "When a task needs material to work on, give it on an Input line with a real example; otherwise write "
    "Input: <noinput>.\n\n"
)


def clean(text: str) -> str:
    """Collapse whitespace and drop a trailing colon (as Alpaca does to its demonstrations)."""
    return re.sub(r"\s+", " ", text).strip().rstrip(":").strip()


def format_item(number: int, record: InstructionRecord) -> str:
    """One numbered item of the prompt's list."""
    input_text = clean(record.input) if record.input.strip() else NO_INPUT
    return f"{number}. Instruction: {clean(record.instruction)}\n{number}. Input: {input_text}\n\n"


def encode_prompt(demos: Sequence[InstructionRecord], settings: GenerationSettings = ALPACA,
                  header: str = HEADER) -> str:
    """The list-continuation prompt: header, the demonstrations numbered 1..k, then 'k+1. Instruction:'."""
    body = "".join(format_item(i, d) for i, d in enumerate(demos, start=1))
    return header.format(list_size=settings.list_size) + body + f"{len(demos) + 1}. Instruction:"


def chat_request(demos: Sequence[InstructionRecord], settings: GenerationSettings = ALPACA) -> list[dict]:
    """The same request as a chat turn (the variant that works worse with small instruct models)."""
    examples = "".join(format_item(i, d) for i, d in enumerate(demos, start=1))
    count = settings.stop_number() - len(demos) - 1
    ask = (f"Here are some example tasks:\n\n{examples}Write {count} new, different tasks in the same format, "
           f"numbered from {len(demos) + 1}.")
    return [{"role": "user", "content": ask}]


def pick_demos(rng: random.Random, seeds: Sequence[InstructionRecord], machine: Sequence[InstructionRecord],
               settings: GenerationSettings) -> list[InstructionRecord]:
    """Sample the demonstrations: seed tasks, plus generated ones when the settings ask for them."""
    n_machine = min(settings.num_machine_instructions, len(machine))
    n_seed = settings.num_prompt_instructions + settings.num_machine_instructions - n_machine
    demos = rng.sample(list(seeds), min(n_seed, len(seeds))) + rng.sample(list(machine), n_machine)
    if n_machine:
        rng.shuffle(demos)
    return demos


# --- parsing ---------------------------------------------------------------------------------------

_FIELD = re.compile(r"^\s*(?:#+\s*)?(\d{1,3})\s*[.)]\s*(instruction|input|output)?\s*:?\s*(.*)$", re.IGNORECASE)
_NO_INPUT = {"<noinput>", "<no input>", "noinput", "none", "n/a", "na", "no input", "<none>", "-", ""}


@dataclass
class Candidate:
    """A parsed new instruction and where it came from."""

    instruction: str
    input: str = ""
    number: int = 0
    prompt_index: int = 0


def _same_words(a: str, b: str) -> bool:
    """True when two texts have the same words (case and punctuation aside): a small teacher's copied instruction."""
    return tokenize(a) == tokenize(b)


def parse_numbered(text: str, first_number: int, truncated: bool = False) -> list[Candidate]:
    """Read the items a teacher wrote, from '{first_number}. Instruction:' on.

    Tolerant of small-model mess: labels may be missing ('5. Do this'), numbers may skip, inputs
    may run over several lines, '<noinput>' comes in many spellings, and prose after the list is
    ignored. When the completion was cut off (`truncated`), the last item is dropped.
    """
    items: list[Candidate] = []
    current: Candidate | None = None
    reading_input = False
    for line in (f"{first_number}. Instruction:" + text).splitlines():
        match = _FIELD.match(line)
        if match:
            number, label, rest = int(match.group(1)), (match.group(2) or "instruction").lower(), match.group(3)
            if label == "instruction":
                current = Candidate(rest.strip(), number=number)
                items.append(current)
                reading_input = False
            elif label == "input" and current is not None and number == current.number:
                current.input, reading_input = rest.strip(), True
            else:  # an Output line, or an Input for another item: the item is over
                reading_input = False
            continue
        if not line.strip():
            reading_input = False
        elif reading_input and current is not None:
            current.input = (current.input + "\n" + line.strip()).strip()
        elif current is not None and not current.instruction:
            current.instruction = line.strip()  # "5. Instruction:" with the text on the next line
        else:
            current = None  # prose after the list: stop attaching lines to the last item
    if truncated and items:
        items.pop()
    out = []
    for item in items:
        item.instruction = clean(item.instruction).strip("\"'")
        no_input = item.input.strip().lower().strip(".") in _NO_INPUT or _same_words(item.input, item.instruction)
        item.input = "" if no_input else item.input.strip()
        if item.instruction:
            out.append(item)
    return out


# --- instance generation ----------------------------------------------------------------------------

def write_outputs(teacher: Teacher, candidates: Sequence[Candidate], settings: GenerationSettings,
                  seed: int, seeds: Sequence[int] = ()) -> list[tuple[str, str]]:
    """Ask the teacher to carry out each instruction (on its input): (output, finish_reason) per candidate.

    Candidate i is seeded `seed + i`, or `seeds[i]` when given."""
    from .templates import user_message

    system = [{"role": "system", "content": settings.output_system}] if settings.output_system else []
    conversations = [system + [{"role": "user", "content": user_message(c.instruction, c.input)}] for c in candidates]
    sampling = replace(settings.output_sampling(seed), seeds=tuple(seeds))
    return [(c.text.strip(), c.finish_reason) for c in teacher.chat(conversations, sampling)]


def answer_rounds(teacher: Teacher, rounds: Sequence[tuple[Sequence[Candidate], int]],
                  settings: GenerationSettings) -> list[list[tuple[str, str, bool]]]:
    """Answers for several rounds' candidates (each round with its answer seed) in one call, and the answers cut at
    the token limit asked for again in one more: (output, finish_reason, regenerated) per candidate, per round.

    Candidate j of a round is seeded `seed + j`; the round's k-th cut answer is asked again, with twice the
    budget, at `seed + 7 + k`: what one round alone draws (`checked_outputs`).
    """
    flat = [c for cands, _ in rounds for c in cands]
    seeds = [seed + j for cands, seed in rounds for j in range(len(cands))]
    where = [(r, j) for r, (cands, _) in enumerate(rounds) for j in range(len(cands))]
    out: list[list] = [[None] * len(cands) for cands, _ in rounds]
    if not flat:
        return out
    for (r, j), (text, finish) in zip(where, write_outputs(teacher, flat, settings, 0, seeds), strict=True):
        out[r][j] = (text, finish, False)
    if settings.regenerate_cut:
        cut = [(r, j) for r, answers in enumerate(out) for j, (_, finish, _) in enumerate(answers) if finish == "length"]
        if cut:
            again, counted = [], [0] * len(rounds)
            for r, _ in cut:
                again.append(rounds[r][1] + 7 + counted[r])
                counted[r] += 1
            longer = replace(settings, output_max_new_tokens=2 * settings.output_max_new_tokens)
            for (r, j), (text, finish) in zip(cut, write_outputs(teacher, [rounds[r][0][j] for r, j in cut], longer,
                                                                 0, again), strict=True):
                out[r][j] = (text, finish, True)
    return out


def judge_outputs(answers: Sequence[tuple[str, str, bool]], candidates: Sequence[Candidate],
                  funnel: Funnel) -> list[tuple[int, str, bool]]:
    """The answers that pass the output rules: (candidate index, output, regenerated) each; the funnel counts the rest.

    An answer cut at the token limit is dropped, because training on it (and then an end token)
    teaches the student to stop mid-sentence.
    """
    kept = []
    for i, (output, finish, regenerated) in enumerate(answers):
        broken = TRUNCATED if finish == "length" else first_broken_output_rule(output, candidates[i].instruction,
                                                                                  candidates[i].input)
        if broken:
            funnel.removed[broken] += 1
        else:
            kept.append((i, output, regenerated))
    return kept


def checked_outputs(teacher: Teacher, candidates: Sequence[Candidate], settings: GenerationSettings, seed: int,
                    funnel: Funnel) -> list[tuple[int, str, bool]]:
    """Answers that pass the output rules: (candidate index, output, regenerated) each; the funnel counts the rest.

    With `settings.regenerate_cut` an answer cut at the token limit is first asked for once more with twice the budget.
    """
    return judge_outputs(answer_rounds(teacher, [(candidates, seed)], settings)[0], candidates, funnel)


# --- one round: prompt -> sample -> parse -> rules -> novelty -> answer ------------------------------------

def magpie_prefix(tokenizer) -> str:
    """The chat template up to where the user's words would begin (Magpie's "pre-query template")."""
    marker = "\x00QUERY\x00"
    text = tokenizer.apply_chat_template([{"role": "user", "content": marker}], tokenize=False,
                                         add_generation_prompt=False)
    return text[: text.index(marker)]


def propose(teacher: Teacher, demos: Sequence[Sequence[InstructionRecord]], settings: GenerationSettings,
            seed: int, headers: Sequence[str] | None = None) -> list[Candidate]:
    """Prompt, sample and parse: the new instructions the teacher wrote, at most `slots_per_prompt()` per prompt.

    `settings.prompt_style` picks the prompt: "alpaca" (list continuation, one header per prompt),
    "chat" (the same request as a chat turn) or "magpie" (no demonstrations: the chat template up to
    the user's turn, sampled once per slot, so every style fills the same number of slots).
    """
    return propose_rounds(teacher, [(demos, seed)], settings, [headers])[0]


def propose_rounds(teacher: Teacher, rounds: Sequence[tuple[Sequence[Sequence[InstructionRecord]], int]],
                   settings: GenerationSettings, headers: Sequence[Sequence[str] | None] | None = None,
                   ) -> list[list[Candidate]]:
    """`propose` for several rounds (their demos and seed each) in one call to the teacher; candidates per round.

    Each request keeps the seed it has when its round is proposed alone, so a round draws the same
    random numbers either way; a batch of 32 or 48 list prompts keeps a CPU busier than one of 16.
    """
    per_prompt = settings.slots_per_prompt()
    headers = list(headers or [None] * len(rounds))
    requests, seeds, owner = [], [], []  # one request each; its seed; (round, prompt index) it belongs to
    for r, ((demos, seed), head) in enumerate(zip(rounds, headers, strict=True)):
        if settings.prompt_style == "magpie":
            requests += [magpie_prefix(teacher.tokenizer)] * (len(demos) * per_prompt)
            owner += [(r, k) for k in range(len(demos) * per_prompt)]  # k: the request's place in its round
            seeds += [seed + k for k in range(len(demos) * per_prompt)]
        elif settings.prompt_style == "chat":
            requests += [chat_request(d, settings) for d in demos]
        elif settings.prompt_style == "alpaca":
            requests += [encode_prompt(d, settings, h) for d, h in zip(demos, head or [HEADER] * len(demos), strict=True)]
        else:
            raise ValueError(f"unknown prompt_style {settings.prompt_style!r}; use alpaca, chat or magpie")
        if settings.prompt_style != "magpie":
            owner += [(r, i) for i in range(len(demos))]
            seeds += [seed + i for i in range(len(demos))]
    sampling = replace(settings.sampling(rounds[0][1] if rounds else 0), seeds=tuple(seeds))
    out: list[list[Candidate]] = [[] for _ in rounds]
    if not requests:
        return out
    if settings.prompt_style == "magpie":
        outs = teacher.complete(requests, replace(sampling, stop=()))
        for (r, k), o in zip(owner, outs, strict=True):
            if o.finish_reason == "stop":
                out[r].append(Candidate(clean(o.text.split("\n")[0]), number=settings.first_number() + k % per_prompt,
                                        prompt_index=k // per_prompt))
        return out
    if settings.prompt_style == "chat":
        outs = teacher.chat(requests, sampling)
        texts = [o.text.split("Instruction:", 1)[-1] for o in outs]
    else:
        outs = teacher.complete(requests, sampling)
        texts = [o.text for o in outs]
    for (r, i), text, o in zip(owner, texts, outs, strict=True):
        for c in parse_numbered(text, settings.first_number(), truncated=o.finish_reason == "length")[:per_prompt]:
            c.prompt_index = i
            out[r].append(c)
    return out


@dataclass
class Round:
    """What one round asked for, what came back, and what survived each stage."""

    prompts: int
    slots: int  # new items asked for: prompts x slots_per_prompt
    candidates: list[Candidate]
    passed: list[Candidate]  # passed the rule filters
    novel: list[tuple[Candidate, dict]]  # and the novelty filter, with its verdict
    records: list[InstructionRecord]  # and got an answer that passed the output rules (empty when not asked for)


def generation_round(teacher: Teacher, demos: Sequence[Sequence[InstructionRecord]], settings: GenerationSettings,
                     seed: int, funnel: Funnel, pool: NoveltyFilter | None = None, headers: Sequence[str] | None = None,
                     answer: bool = True, meta: dict | None = None,
                     candidates: list[Candidate] | None = None,
                     answered: Sequence[tuple[str, str, bool]] | None = None) -> Round:
    """One round of the loop. The funnel counts every drop; `pool` (kept instructions) is not changed here.

    Without a pool, the novelty stage only drops exact repeats within the round. `candidates`: the
    round's proposals when they were made ahead (`propose_rounds`), else they are made here. `answered`: answers
    written ahead for the candidates that pass the rules, in their order (`answer_rounds`); the novelty filter then
    decides which of them count, as it decides which get asked for here.
    """
    if candidates is None:
        candidates = propose(teacher, demos, settings, seed, headers)
    passed_at, rules = apply_rules([c.instruction for c in candidates])
    funnel.merge(rules)
    passed = [candidates[i] for i in passed_at]
    if pool is not None:
        verdicts = pool.admit([c.instruction for c in passed], commit=False)
    else:
        first_seen = {c.instruction: i for i, c in reversed(list(enumerate(passed)))}
        verdicts = [{"kept": first_seen[c.instruction] == i, "max_rouge": 0.0, "most_similar": ""}
                    for i, c in enumerate(passed)]
    funnel.removed[NOVELTY] += sum(not v["kept"] for v in verdicts)
    novel = [(c, v) for c, v in zip(passed, verdicts, strict=True) if v["kept"]]
    if not (answer and novel):
        answers = []
    elif answered is None:
        answers = checked_outputs(teacher, [c for c, _ in novel], settings, seed + 1, funnel)
    else:
        answers = judge_outputs([a for a, v in zip(answered, verdicts, strict=True) if v["kept"]],
                                [c for c, _ in novel], funnel)
    records = []
    for i, output, regenerated in answers:
        c, v = novel[i]
        records.append(InstructionRecord(c.instruction, c.input, output, {
            **(meta or {}), "max_rouge": round(v["max_rouge"], 4), "most_similar": v["most_similar"],
            "output_truncated": False, "output_regenerated": regenerated}))
    return Round(len(demos), len(demos) * settings.slots_per_prompt(), candidates, passed, novel, records)


# --- the resumable loop ---------------------------------------------------------------------------------

def _batch_seed(seed: int, batch: int, stage: int) -> int:
    return (seed * 1_000_003 + batch * 7 + stage) % (2**31)


#: List prompts decoded together: `generate` proposes rounds ahead until one call holds about this many (16 prompts a
#: round alone leave a CPU's decode step bound by reading the weights; benchmarks/generation_speed.py).
LIST_ROWS = 48


def rounds_ahead(settings: GenerationSettings, missing: int, rounds: int, written: int) -> int:
    """How many rounds to propose in one call: enough prompts for LIST_ROWS, but no more rounds than `missing`
    records should take at the file's records per round so far (`written` in `rounds`: both read from the file, so
    a resumed run decides as the run before it did), and one round alone when demos come from generated records
    (they depend on what the round before wrote)."""
    if settings.num_machine_instructions > 0:
        return 1
    most = max(1, LIST_ROWS // max(1, settings.batch_size))
    if rounds == 0 or written == 0:
        return most
    return max(1, min(most, math.ceil(missing * rounds / written)))


def propose_ahead(teacher: Teacher, seeds: Sequence[InstructionRecord], existing: Sequence[InstructionRecord],
                  settings: GenerationSettings, seed: int, batch: int, count: int) -> dict[int, tuple[list, list]]:
    """Demos and proposed candidates for rounds `batch` .. `batch + count - 1`, in one call; each round's random
    streams are those it has alone, so a run that resumes at any round sees the same ones."""
    demos = {}
    for b in range(batch, batch + count):
        rng = random.Random(_batch_seed(seed, b, 0))
        demos[b] = [pick_demos(rng, seeds, existing, settings) for _ in range(settings.batch_size)]
    proposed = propose_rounds(teacher, [(demos[b], _batch_seed(seed, b, 1)) for b in demos], settings)
    return {b: (demos[b], candidates) for b, candidates in zip(demos, proposed, strict=True)}


def generate(teacher: Teacher, n: int, out: str | Path, seed: int = 0,
             settings: GenerationSettings = ALPACA, seeds: Sequence[InstructionRecord] | None = None,
             progress: bool = True, max_idle_batches: int = 25, seed_file: str | None = None) -> RunLog:
    """Generate until `out` holds n records. Safe to kill at any moment and run again: it resumes.

    Records are appended one group of rounds at a time (the rounds whose lists were proposed in one
    call, `rounds_ahead`) with a single write and an fsync. On restart a torn last line is cut, the records already written join the novelty pool, and the batch counter
    continues from the last written batch, so no record is lost or written twice, and an
    uninterrupted run and a resumed one see the same random streams. While it runs, FILE.lock
    keeps a second writer out.
    """
    from tqdm.auto import tqdm

    from .locking import output_lock

    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    out, seeds = Path(out), list(seeds) if seeds is not None else load_seed_tasks()
    with output_lock(out):
        existing = list(records_to_extend(out, torn_tail_is_ours=run_log_path(out).exists()))
        log = read_run_log(out) if run_log_path(out).exists() and existing else \
            RunLog(settings=asdict(settings), teacher=getattr(teacher, "name", "teacher"), seed=seed,
                   seed_tasks=seed_file or "packaged")
        if existing and run_log_path(out).exists():
            refuse_another_recipe(out, log, getattr(teacher, "name", "teacher"), seed, settings, seed_file or "packaged")
        funnel = funnel_from_log(log)
        pool = NoveltyFilter([s.instruction for s in seeds] + [r.instruction for r in existing],
                             threshold=settings.rouge_threshold)
        batch = 1 + max((r.meta.get("batch", -1) for r in existing), default=-1)
        bar = tqdm(total=n, initial=min(len(existing), n), desc="generating", unit="example", disable=not progress)
        idle = 0
        while len(existing) < n:
            # Rounds proposed together are written together, so a resumed run starts where a group started and
            # proposes the same group again: the same file, bar floating-point noise, as a run never stopped.
            group = propose_ahead(teacher, seeds, existing, settings, seed, batch,
                                  rounds_ahead(settings, n - len(existing), batch, len(existing)))
            # The group's answers are written ahead too, for every candidate that passes the rules (the novelty
            # filter needs the rounds before, so it runs round by round below, and drops about one in ten).
            passed = [[cands[i] for i in apply_rules([c.instruction for c in cands])[0]] for _, cands in group.values()]
            answered = answer_rounds(teacher, [(p, _batch_seed(seed, b, 1) + 1) for p, b in zip(passed, group, strict=True)],
                                     settings)
            pending: list[InstructionRecord] = []
            for (demos, candidates), answers in zip(group.values(), answered, strict=True):
                round_ = generation_round(teacher, demos, settings, _batch_seed(seed, batch, 1), funnel, pool,
                                          meta={"batch": batch, "source": "generated", "teacher": log.teacher},
                                          candidates=candidates, answered=answers)
                records = round_.records[: n - len(existing)]
                pool.extend([r.instruction for r in records])
                existing.extend(records)
                pending.extend(records)
                log.record_round(round_, len(existing), funnel, teacher)
                bar.update(len(records))
                bar.set_postfix(batch=batch, kept=f"{len(records)}/{len(round_.candidates)}")
                batch, idle = batch + 1, 0 if records else idle + 1
                if idle >= max_idle_batches or len(existing) >= n:
                    break
            append_jsonl(out, pending)  # one write (and fsync) per group, then the log that counts it
            atomic_write_text(run_log_path(out), json.dumps(asdict(log), indent=1))
            if idle >= max_idle_batches:
                bar.close()
                raise RuntimeError(f"{max_idle_batches} rounds in a row produced nothing usable; "
                                   f"see {run_log_path(out)} for the funnel")
        bar.close()
    return log



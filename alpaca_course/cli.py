"""Command line: the pipeline without Jupyter (`python -m alpaca_course COMMAND --help`)."""

from __future__ import annotations

import argparse
import logging
import os
import platform
import sys
import time
from importlib import metadata

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


def cmd_course(args: argparse.Namespace) -> int:
    """The main job: check the set-up, then run the course's pipeline steps in order."""
    return cmd_doctor(argparse.Namespace(prompt=DEFAULT_PROMPT, max_new_tokens=60))


def build_parser() -> argparse.ArgumentParser:
    """The argument parser with one sub-command per pipeline stage."""
    parser = argparse.ArgumentParser(prog="python -m alpaca_course", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    doctor = sub.add_parser("doctor", help="check the installation and talk to the bundled model once")
    doctor.add_argument("--prompt", default=DEFAULT_PROMPT)
    doctor.add_argument("--max-new-tokens", type=int, default=60)
    doctor.set_defaults(func=cmd_doctor)
    course = sub.add_parser("course", help="run the whole course headless (what `make course` does)")
    course.set_defaults(func=cmd_course)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point for `python -m alpaca_course` and the `alpaca-course` script."""
    args = build_parser().parse_args(argv)
    _quiet()
    return args.func(args)

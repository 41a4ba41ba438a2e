"""The installation check: versions, device, profile, model source and cache, then one real reply."""

from __future__ import annotations

import platform
import sys
import time
from importlib import metadata
from pathlib import Path

DEFAULT_PROMPT = "In one sentence, what is an instruction-tuned language model?"


def package_versions() -> list[tuple[str, str, str]]:
    """(package, installed version or MISSING, tested version) for the libraries the course leans on."""
    from .versions import TESTED

    rows = []
    for name in ("torch", "transformers", "datasets", "peft", "trl", "gguf"):
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = "MISSING"
        rows.append((name, installed, TESTED[name]))
    return rows


def run_doctor(prompt: str = DEFAULT_PROMPT, max_new_tokens: int = 60) -> int:
    """Print what the course runs on and ask the bundled model one question; 0 when all is well."""
    from . import __version__
    from .models import ModelNotAvailable, cache_root, checkpoint_problems, resolve_model
    from .profiles import choose_device, choose_dtype, get_profile
    from .teachers import LocalTeacher, Sampling

    print(f"alpaca-course {__version__}   Python {platform.python_version()} on {platform.platform()}")
    print(f"  installed from {Path(__file__).resolve().parent}")
    for name, installed, tested in package_versions():
        note = "" if installed.split("+")[0] == tested else f"  (tested: {tested})"
        print(f"  {name:<13}{installed}{note}")
    profile = get_profile()
    device = choose_device()
    print(f"device: {device}   dtype: {choose_dtype(device)}   profile: {profile.name}   teacher: {profile.teacher}")
    print(f"cache: {cache_root()}")
    try:
        started = time.perf_counter()
        folder, source = resolve_model("bundled")
        print(f"model: {source}")
        problems = checkpoint_problems(Path(folder), full=True)  # every byte against the hashes of the conversion
        print("checkpoint: every file matches its conversion hash" if not problems else
              "checkpoint: DAMAGED (" + "; ".join(problems) + "); delete the folder and run again to convert it anew")
        teacher = LocalTeacher.load("bundled", device=device)
        loaded = time.perf_counter() - started
    except ModelNotAvailable as err:
        print(f"model: NOT AVAILABLE\n{err}", file=sys.stderr)
        return 1
    started = time.perf_counter()
    reply = teacher.chat([[{"role": "user", "content": prompt}]], Sampling(max_new_tokens=max_new_tokens, temperature=0))[0]
    print(f"loaded in {loaded:.1f} s; generated {reply.completion_tokens} tokens in {time.perf_counter() - started:.1f} s "
          f"({reply.finish_reason})")
    print(f"\n> {prompt}\n{reply.text.strip()}")
    return 0

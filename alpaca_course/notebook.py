"""What the shared setup cell calls: quiet logs, inline figures, and a printout of the environment."""

from __future__ import annotations

import logging
import os
import platform
import warnings
from importlib import metadata


def course_setup(show: bool = True):
    """Configure logging and plotting for a lesson; print versions, device, profile and dtype.

    Returns (profile, device, dtype).
    """
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    warnings.filterwarnings("ignore", category=FutureWarning)
    logging.getLogger().setLevel(logging.WARNING)
    from transformers.utils import logging as hf_logging

    hf_logging.set_verbosity_error()
    import matplotlib

    matplotlib.rcParams.update({"figure.dpi": 90, "axes.spines.top": False, "axes.spines.right": False})
    from .profiles import choose_device, choose_dtype, get_profile

    profile, device = get_profile(), choose_device()
    dtype = choose_dtype(device)
    if show:
        versions = ", ".join(f"{p} {metadata.version(p)}" for p in ("torch", "transformers", "peft", "trl", "datasets"))
        print(f"Python {platform.python_version()}; {versions}")
        if device == "cuda":
            import torch

            props = torch.cuda.get_device_properties(0)
            print(f"GPU: {props.name}, {props.total_memory / 2**30:.0f} GiB, compute capability {props.major}.{props.minor}")
        print(f"device: {device}   dtype: {dtype}   profile: {profile.name} "
              f"({profile.n_generate} examples, teacher {profile.teacher})")
        if profile.smoke_test:
            print(f"{profile.name} profile: a smoke test. Its students train on a handful of examples for a few steps and its "
                  "evaluation scores few prompts, so no interval can show the benefit or the harm lessons 04-06 ask "
                  "about; use the cpu profile for numbers you write about (INSTRUCTORS.md, 'The quick profile').")
    return profile, device, dtype

"""Memory on a laptop: measure the peak, and hand freed heap back between trainings."""

from __future__ import annotations

import resource
import sys


def peak_memory_mb(children: bool = False) -> float:
    """Peak resident memory of this process so far, in MB (with `children`: or of the largest process it waited for).

    Linux: VmHWM, the process's own high-water mark (ru_maxrss also keeps what the parent held when it forked,
    so a Jupyter kernel started by a large process would report that). Elsewhere ru_maxrss (bytes on macOS)."""
    scale = 2**20 if sys.platform == "darwin" else 1024
    try:
        with open("/proc/self/status") as status:
            own = next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) / 1024
    except (OSError, StopIteration, ValueError, IndexError):
        own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / scale
    return max(own, resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / scale) if children else own


def release_heap() -> None:
    """Hand freed heap pages back to the operating system (glibc keeps them for reuse otherwise)."""
    import ctypes

    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):  # not glibc (macOS, Windows, musl): nothing to hand back this way
        pass


def release_memory() -> None:
    """Collect garbage, then hand freed heap pages back, so that the next training starts from a lower resident size."""
    import gc

    gc.collect()
    release_heap()


def heap_release_callback():
    """A Trainer callback that hands freed heap pages back after every optimizer step.

    On a CPU each batch has its own lengths, so its tensors have their own sizes; the freed ones leave holes in
    the heap that later tensors do not fit, and the resident size grows step after step (in lesson 04, 3.1 GB
    after 48 steps against 2.5 GB with this; benchmarks/training_memory.py)."""
    from transformers import TrainerCallback

    class ReleaseHeap(TrainerCallback):
        def on_step_end(self, args, state, control, **kwargs):
            release_heap()

    return ReleaseHeap()

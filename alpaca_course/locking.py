"""One writer per output file: a lock beside it (FILE.lock) that dies with the process holding it.

The lock is an OS file lock (`flock`), not the file's existence, so a run killed with SIGKILL
leaves no lock behind that could block the next run: the stale FILE.lock is simply taken over.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from pathlib import Path


class OutputLocked(RuntimeError):
    """Another process is writing the same output file."""


def lock_path(out: Path) -> Path:
    """Where the lock of an output file lives."""
    return out.with_name(out.name + ".lock")


def _try_lock(fd: int) -> bool:
    try:
        import fcntl
    except ImportError:  # Windows
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _holder(path: Path) -> str:
    try:
        return path.read_text().strip() or "unknown"
    except OSError:
        return "unknown"


def check_free(out: str | os.PathLike) -> None:
    """Raise OutputLocked now if another process is writing `out` (so nothing slow starts first)."""
    with output_lock(out):
        pass


@contextlib.contextmanager
def output_lock(out: str | os.PathLike) -> Iterator[Path]:
    """Hold FILE.lock while the block runs; refuse, naming the holder's PID, when another process holds it."""
    path = lock_path(Path(out))
    path.parent.mkdir(parents=True, exist_ok=True)
    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        if not _try_lock(fd):
            os.close(fd)
            raise OutputLocked(f"{out}: another generate run is writing this file (PID {_holder(path)}); "
                               f"wait for it to finish or stop it, then run again")
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the holder removed the file while we waited for it: lock the new one
    try:
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield path
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        os.close(fd)

"""One writer per output file: a lock beside it (FILE.lock) that dies with the process holding it.

The lock is an OS file lock (`flock`), not the file's existence, so a run killed with SIGKILL
leaves no lock behind that could block the next run: the stale FILE.lock is simply taken over.
A lock must follow the file, not its spelling: FILE.lock sits beside the *real* path (a symlink
leads to the same lock), and the output file itself is locked too, which an OS lock does by
inode, so a second writer that reaches it through a hard link is refused as well.
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
def output_lock(out: str | os.PathLike, what: str = "generate run", folder: bool = False) -> Iterator[Path]:
    """Hold FILE.lock and the file itself while the block runs; refuse, naming the holder's PID, when another
    process holds either (through any path: a symlink or a hard link). A `folder` (a trained model's) is
    locked by its FOLDER.lock alone, and nothing is created in its place."""
    real = Path(os.path.realpath(out))
    path = lock_path(real)
    path.parent.mkdir(parents=True, exist_ok=True)

    def refuse(holder: str) -> OutputLocked:
        return OutputLocked(f"{out}: another {what} is writing {'this folder' if folder else 'this file'} "
                            f"(PID {holder}); wait for it to finish or stop it, then run again")

    while True:
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        if not _try_lock(fd):
            os.close(fd)
            raise refuse(_holder(path))
        try:
            same = os.fstat(fd).st_ino == os.stat(path).st_ino
        except FileNotFoundError:
            same = False
        if same:
            break
        os.close(fd)  # the holder removed the file while we waited for it: lock the new one
    data_fd, created = None, False
    try:
        if not folder and not real.is_dir():
            created = not real.exists()
            data_fd = os.open(real, os.O_RDONLY | os.O_CREAT, 0o644)
            if not _try_lock(data_fd):  # held through another name (a hard link has its own FILE.lock)
                raise refuse("unknown: it holds the file through another name")
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        yield path
    finally:
        if data_fd is not None:
            if created:
                with contextlib.suppress(OSError):
                    if os.fstat(data_fd).st_size == 0 and os.stat(real).st_ino == os.fstat(data_fd).st_ino:
                        os.unlink(real)  # we made it and nothing was written: leave no empty file behind
            os.close(data_fd)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(path)
        os.close(fd)

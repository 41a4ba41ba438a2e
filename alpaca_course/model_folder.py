"""Where a trained model goes: a folder that `train` owns, filled beside it and swapped in whole.

A model folder is several files (weights, adapter_config.json or config.json, tokenizer, card,
train_result.json) that only make sense together. Writing them one by one over an old folder is how a
kill at the wrong moment leaves new weights under an old train_result.json, or an old LoRA adapter
beside a new full model. So the files go to a staging folder next to the target, are flushed to disk,
and the two folders trade places in one step (`renameat2(RENAME_EXCHANGE)` on Linux; two renames
elsewhere). A kill leaves the old model or the new one, whole.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
from pathlib import Path

TRAINED_MARKER = "train_result.json"  # every folder `train` writes has one


class OutputFolderError(ValueError):
    """An output folder that training must not fill or replace."""


def is_trained_folder(folder: Path) -> bool:
    """True when `train` wrote this folder: it holds train_result.json, or only the trainer's checkpoints."""
    return (folder / TRAINED_MARKER).is_file() or {p.name for p in folder.iterdir()} <= {"checkpoints"}


def check_out(out: str | os.PathLike, overwrite: bool = False, data: str | os.PathLike | None = None,
              trained_ok: bool = False) -> Path:
    """The folder to train into, or OutputFolderError when it is '', a file, the current, home or root
    folder, holds the training data, or holds anything already (unless `overwrite`; `trained_ok` lets a
    folder that `train` wrote be replaced without it)."""
    if not str(out).strip():
        raise OutputFolderError("--out is empty: name a new folder for the trained model")
    path = Path(out)
    real = Path(os.path.realpath(path))
    for name, special in (("the current folder", Path.cwd()), ("your home folder", Path.home()), ("the root folder",
                                                                                               Path(real.anchor))):
        if real == Path(os.path.realpath(special)):
            raise OutputFolderError(f"{out}: is {name}; train into a folder of its own (it is replaced whole)")
    if path.exists() and not path.is_dir():
        raise OutputFolderError(f"{out}: is a file, not a folder; name a folder for the trained model")
    if data is not None and Path(os.path.realpath(data)).is_relative_to(real):
        raise OutputFolderError(f"{out}: holds the training data {data}; train into another folder")
    if path.is_dir() and any(path.iterdir()) and not overwrite:
        if not is_trained_folder(path):
            shown = ", ".join(sorted(p.name for p in path.iterdir())[:3])
            raise OutputFolderError(f"{out}: holds files that `train` did not write ({shown}, ...); choose a new "
                                    "folder, or pass --overwrite to replace the whole folder")
        if not trained_ok:
            raise OutputFolderError(f"{out}: holds a trained model already; pass --overwrite to replace it, "
                                    "or choose a new folder")
    return path


def staging_folder(out: str | os.PathLike) -> Path:
    """The folder beside `out` where its replacement is written (the same file system, so it can be swapped in)."""
    real = Path(os.path.realpath(out))
    return real.with_name(f".{real.name}.staging")


def fresh_staging(out: str | os.PathLike) -> Path:
    """An empty staging folder for `out` (a killed run's leftovers are removed)."""
    staging = staging_folder(out)
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    return staging


def _fsync_tree(folder: Path) -> None:
    for root, _, files in os.walk(folder):
        for name in files:
            fd = os.open(os.path.join(root, name), os.O_RDONLY)
            try:
                os.fsync(fd)
            finally:
                os.close(fd)
    _fsync_dir(folder)


def _fsync_dir(folder: Path) -> None:
    with contextlib.suppress(OSError):  # not every file system lets a folder be fsynced
        fd = os.open(folder, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux renameat2 RENAME_EXCHANGE); False where the system cannot."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    return renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0


def swap_in(staging: Path, out: str | os.PathLike) -> Path:
    """Make the finished staging folder the model at `out`; the old folder there (if any) goes."""
    real = Path(os.path.realpath(out))
    _fsync_tree(staging)
    if not real.exists():
        os.rename(staging, real)
    elif _exchange(staging, real):
        shutil.rmtree(staging)  # now the old folder
    else:
        old = real.with_name(f".{real.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        os.rename(real, old)
        os.rename(staging, real)
        shutil.rmtree(old, ignore_errors=True)
    _fsync_dir(real.parent)
    return Path(out)

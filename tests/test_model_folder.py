"""A trained model's folder is replaced whole, and `train --out` refuses folders it must not fill."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from alpaca_course.cli import main
from alpaca_course.model_folder import OutputFolderError, check_out, fresh_staging, staging_folder, swap_in

REPO = Path(__file__).resolve().parents[1]


def write_folder(folder: Path, files: dict[str, str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in files.items():
        (folder / name).write_text(text)


def test_check_out_refuses_what_train_must_not_fill(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "notes.txt").write_text("mine")
    data = tmp_path / "d" / "data.jsonl"
    write_folder(data.parent, {"data.jsonl": "{}\n"})
    write_folder(tmp_path / "old", {"train_result.json": "{}", "adapter_config.json": "{}"})
    write_folder(tmp_path / "mixed", {"README.md": "my own notes"})
    for out, overwrite, words in (("", False, "empty"), ("  ", True, "empty"), (".", True, "current folder"),
                                  ("notes.txt", True, "is a file"), ("d", True, "training data"),
                                  ("mixed", False, "did not write"), ("old", False, "--overwrite")):
        with pytest.raises(OutputFolderError, match=words):
            check_out(out, overwrite, data=data)
    assert check_out("new", data=data) == Path("new")
    assert check_out("old", overwrite=True, data=data) == Path("old")
    assert check_out("old", trained_ok=True) == Path("old")  # what the lessons do when they train again
    assert check_out("mixed", overwrite=True) == Path("mixed")


def test_swap_in_replaces_the_whole_folder(tmp_path):
    out = tmp_path / "model"
    write_folder(out, {"adapter_config.json": "{}", "adapter_model.safetensors": "old", "train_result.json": "old"})
    staging = fresh_staging(out)
    assert staging == staging_folder(out) and staging.parent == out.parent and not any(staging.iterdir())
    write_folder(staging, {"config.json": "{}", "model.safetensors": "new", "train_result.json": "new"})
    swap_in(staging, out)
    # a full fine-tune over a LoRA folder: nothing of the adapter may stay behind to be loaded instead
    assert sorted(p.name for p in out.iterdir()) == ["config.json", "model.safetensors", "train_result.json"]
    assert not staging.exists() and not list(tmp_path.glob(".model.*"))


def test_swap_in_through_a_symlink_replaces_the_real_folder(tmp_path):
    real = tmp_path / "real"
    write_folder(real, {"train_result.json": "old"})
    (tmp_path / "link").symlink_to(real)
    staging = fresh_staging(tmp_path / "link")
    assert staging.parent == tmp_path and staging.name == ".real.staging"
    write_folder(staging, {"train_result.json": "new"})
    swap_in(staging, tmp_path / "link")
    assert (real / "train_result.json").read_text() == "new" and (tmp_path / "link").is_symlink()


SAVER = textwrap.dedent("""
    import json, sys, time
    from pathlib import Path
    from alpaca_course import model_folder

    class SlowModel:  # writes its weights in pieces, slowly, as a big model would
        def save_pretrained(self, folder):
            for i in range(6):
                Path(folder, f"weights-{i}.bin").write_text(sys.argv[2] * 1000)
                time.sleep(0.03)

    class Tokenizer:
        def save_pretrained(self, folder):
            Path(folder, "tokenizer.json").write_text(sys.argv[2])

    result = model_folder.TrainResult(sys.argv[1], {"template": sys.argv[2]}, 1, 2, 3, 1, 0, 1, 1.0, 1.0, 1.0, 1.0, 1.0,
                                        [1.0])
    model_folder.model_card = lambda result, student: "card " + sys.argv[2]
    print("saving", flush=True)
    model_folder.save(SlowModel(), Tokenizer(), Path(sys.argv[1]), result, "bundled")
""")


def whole(folder: Path) -> str:
    """The one version every file in the folder belongs to (fails on a mixed folder)."""
    versions = set()
    for path in folder.iterdir():
        text = path.read_text()
        if path.name == "train_result.json":
            versions.add(json.loads(text)["config"]["template"])
        elif path.name == "README.md":
            versions.add(text.removeprefix("card "))
        else:
            versions.add(text[:3])
    assert len(versions) == 1, f"a mixed folder: {sorted(p.name for p in folder.iterdir())} {versions}"
    assert len(list(folder.iterdir())) == 9
    return versions.pop()


def test_a_kill_during_save_leaves_the_old_model_or_the_new_one_whole(tmp_path):
    out = tmp_path / "adapter"
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    subprocess.run([sys.executable, "-c", SAVER, str(out), "old"], check=True, env=env)
    assert whole(out) == "old"
    seen = set()
    for delay in (0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 1.5):
        proc = subprocess.Popen([sys.executable, "-c", SAVER, str(out), "new"], env=env, stdout=subprocess.PIPE)
        assert proc.stdout.readline().strip() == b"saving"
        time.sleep(delay)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        seen.add(whole(out))
        if whole(out) == "new":  # start again from the old model for the next timing
            subprocess.run([sys.executable, "-c", SAVER, str(out), "old"], check=True, env=env)
    assert "old" in seen  # killed mid-save at least once: the old model stayed, whole


def test_train_refuses_an_out_that_holds_other_files_before_loading_anything(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    data = tmp_path / "data.jsonl"
    data.write_text("".join(json.dumps({"instruction": f"Say {i}.", "input": "", "output": str(i)}) + "\n"
                            for i in range(4)))
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "README.md").write_text("my notes")
    for out in ("", ".", "mine", str(data)):
        assert main(["train", "--data", str(data), "--out", out, "--steps", "1", "--quiet"]) == 2
        err = capsys.readouterr().err.strip()
        assert "\n" not in err and "Traceback" not in err, err
    assert (tmp_path / "mine" / "README.md").read_text() == "my notes"
    assert data.read_text().count("\n") == 4


@pytest.fixture
def tiny_disk(tmp_path):
    """A 64 KiB tmpfs, where the test may mount one (root on Linux); skipped with the reason elsewhere."""
    mount = tmp_path / "tiny"
    mount.mkdir()
    try:
        made = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True,
                              text=True)
    except FileNotFoundError:
        pytest.skip("no mount command here")
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({made.stderr.strip() or 'not root'})")
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def fill(folder: Path, leave: int) -> None:
    """Fill the file system under `folder` until about `leave` bytes are free."""
    free = os.statvfs(folder).f_bavail * os.statvfs(folder).f_frsize
    with open(folder / "filler", "wb") as fh:
        fh.write(b"\0" * max(0, free - leave))


def test_a_full_disk_leaves_the_old_card_and_the_old_model_whole(tiny_disk, tmp_path, capsys):
    from alpaca_course.data import InstructionRecord, atomic_write_text, write_jsonl

    data = write_jsonl(tmp_path / "g.jsonl", [InstructionRecord(f"Say {i} in words.", "", f"{i}") for i in range(5)])
    card = tiny_disk / "card.md"
    card.write_text("the old card\n")
    model = tiny_disk / "model"
    write_folder(model, {"adapter_config.json": "{}", "train_result.json": "old"})
    fill(tiny_disk, leave=512)
    assert main(["card", str(data), "--no-diversity", "--out", str(card)]) == 2  # the card is bigger than 512 bytes
    err = [line for line in capsys.readouterr().err.splitlines() if not line.startswith("WARNING")]
    assert len(err) == 1 and "No space left" in err[0] and "card.md" in err[0], err
    assert card.read_text() == "the old card\n"
    with pytest.raises(OSError):
        atomic_write_text(tiny_disk / "card.md", "x" * 100_000)
    assert card.read_text() == "the old card\n" and not list(tiny_disk.glob(".card.md.*"))
    with pytest.raises(OSError):
        staging = fresh_staging(model)
        (staging / "adapter_model.safetensors").write_bytes(b"w" * 100_000)
        swap_in(staging, model)
    assert (model / "train_result.json").read_text() == "old" and sorted(p.name for p in model.iterdir()) == [
        "adapter_config.json", "train_result.json"]


def test_a_second_training_into_the_same_folder_is_refused(tmp_path, capsys):
    from alpaca_course.locking import output_lock

    data = tmp_path / "data.jsonl"
    data.write_text("".join(json.dumps({"instruction": f"Say {i}.", "input": "", "output": str(i)}) + "\n"
                            for i in range(4)))
    out = tmp_path / "adapter"
    with output_lock(out, "train run", folder=True):  # as a first training holds it
        assert main(["train", "--data", str(data), "--out", str(out), "--steps", "1", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "another train run is writing this folder" in err and len(err.strip().splitlines()) == 1
    assert not out.exists()  # the lock made nothing in the folder's place

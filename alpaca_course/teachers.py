"""Teachers: the models that write instruction data, behind one small interface.

- `LocalTeacher`: a transformers model on this machine (the bundled one by default), continuously
  batched (`batching.py`), with seeded sampling so the same seed gives the same text.
- `OpenAICompatibleTeacher`: any server speaking the OpenAI API (OpenAI, vLLM, Ollama, llama.cpp).
  Base URL, model and key come from the environment; the key is never printed, logged or saved.

Both count prompt and completion tokens, which is what an API bills for (see `estimate_cost`).
"""

from __future__ import annotations

import contextlib
import http.client
import json
import logging
import math
import os
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from .batching import DecodeStats

log = logging.getLogger(__name__)


@dataclass
class Completion:
    """One generated text and what it cost in tokens."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    finish_reason: str  # "stop" (ended by itself or a stop string) or "length" (hit max_new_tokens)


@dataclass
class Usage:
    """Running token totals for a teacher."""

    requests: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0

    def add(self, completions: list[Completion]) -> None:
        """Count a batch of completions."""
        self.requests += len(completions)
        self.prompt_tokens += sum(c.prompt_tokens for c in completions)
        self.completion_tokens += sum(c.completion_tokens for c in completions)


@dataclass
class Sampling:
    """Decoding settings (Alpaca's defaults: temperature 1.0, top_p 1.0)."""

    max_new_tokens: int = 256
    temperature: float = 1.0
    top_p: float = 1.0
    stop: tuple[str, ...] = ()
    seed: int = 0
    top_k: int = 0  # 0: no cut; a cut (e.g. 50) with top_p=1.0 skips sorting the whole vocabulary at every step
    presence_penalty: float = 0.0  # sent to API teachers (Self-Instruct used 2.0); the local teacher ignores it
    seeds: tuple[int, ...] = ()  # one seed per prompt; empty: prompt i is seeded `seed + i`

    def seed_of(self, i: int) -> int:
        """The seed prompt `i` of a call samples with."""
        return self.seeds[i] if self.seeds else self.seed + i

    def check(self, n: int) -> None:
        """Refuse per-prompt seeds that do not match the call's `n` prompts."""
        if self.seeds and len(self.seeds) != n:
            raise ValueError(f"Sampling.seeds holds {len(self.seeds)} seeds for {n} prompts")


class Teacher(Protocol):
    """Anything that turns prompts into completions and counts tokens."""

    name: str
    usage: Usage

    def complete(self, prompts: list[str], sampling: Sampling) -> list[Completion]:
        """Plain text continuation of each prompt."""
        ...

    def chat(self, conversations: list[list[dict]], sampling: Sampling) -> list[Completion]:
        """The assistant's reply to each conversation."""
        ...


def cut_at_stop(text: str, stop: tuple[str, ...]) -> tuple[str, bool]:
    """Text up to the first stop string, and whether one was found."""
    cut = min((i for i in (text.find(s) for s in stop if s) if i >= 0), default=-1)
    return (text[:cut], True) if cut >= 0 else (text, False)


@contextlib.contextmanager
def contiguous_head_input(model):
    """While generating, hand the output layer a contiguous copy of the hidden states it reads.

    `generate` passes the last position only, a strided view. With frozen bf16 weights (a LoRA base,
    a trained student) torch 2.13 on the CPU multiplies such a view through a batched matmul that
    expands the (576 x 49152) output weight once per sequence: 3.4 GB for a batch of 64. A contiguous
    input takes the plain matmul (benchmarks/RESULTS.md, "Memory of lesson 04").
    """
    head = model.get_output_embeddings() if hasattr(model, "get_output_embeddings") else None
    handle = head.register_forward_pre_hook(lambda _, args: (args[0].contiguous(), *args[1:])) if head else None
    try:
        yield
    finally:
        if handle is not None:
            handle.remove()


#: "slots" (continuous batching, the default) or "generate" (`model.generate`): the engine a LocalTeacher gets
#: when the caller names none.
ENGINE_ENV = "ALPACA_COURSE_TEACHER_ENGINE"
ENGINES = ("slots", "generate")


def default_engine() -> str:
    """The engine named by $ALPACA_COURSE_TEACHER_ENGINE, else "slots"."""
    chosen = os.environ.get(ENGINE_ENV, "").strip().lower() or "slots"
    if chosen not in ENGINES:
        raise TeacherConfigError(f"{ENGINE_ENV}={os.environ[ENGINE_ENV]!r} is not an engine; use one of: {', '.join(ENGINES)}")
    return chosen


@dataclass
class LocalTeacher:
    """A local transformers model as teacher: `slots` prompts decode at once, and a finished one makes room.

    `engine="slots"` (the default) is continuous batching (`batching.py`): a row that ends leaves the batch
    and a waiting prompt takes its place. `engine="generate"` is `model.generate` on left-padded batches of
    `slots`, each run until its longest row ends: the path a model of another layout always takes, and the
    course's teacher before continuous batching (set ALPACA_COURSE_TEACHER_ENGINE=generate to run a whole
    course on it and compare). `stats` counts what was computed.
    """

    model: object
    tokenizer: object
    name: str = "bundled"
    usage: Usage = field(default_factory=Usage)
    slots: int = 64
    engine: str = field(default_factory=lambda: default_engine())
    stats: DecodeStats = field(default_factory=lambda: _decode_stats())

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ValueError(f"unknown engine {self.engine!r}; use 'slots' (continuous batching) or 'generate'")
        if self.slots < 1:
            raise ValueError(f"slots must be at least 1, got {self.slots}")

    @classmethod
    def load(cls, name: str = "bundled", device: str | None = None, dtype: str | None = None,
             **options) -> LocalTeacher:
        """Load a model by name ("bundled" or a Hub id) and wrap it.

        The precision follows `profiles.generation_dtype`: bfloat16 on a GPU from compute capability
        8.0 and on a CPU with native bf16 instructions (half the bytes decode about twice as fast,
        same text quality), float32 on other CPUs, where bf16 is emulated and slow.
        """
        from .models import BUNDLED, bundled_checkpoint_dir, load_model
        from .profiles import choose_device, generation_dtype

        device = device or choose_device()
        dtype = dtype or generation_dtype(device)
        model, tokenizer = load_model(name, device=device, dtype=dtype)
        if str(model.config._name_or_path) == str(bundled_checkpoint_dir()):
            name = BUNDLED  # a Hub model that could not be reached fell back to the bundled one
        return cls(model, tokenizer, name=name, **options)

    def _generate(self, texts: list[str], sampling: Sampling, add_special_tokens: bool) -> list[Completion]:
        from .batching import supports

        sampling.check(len(texts))
        if self.engine == "generate" or not supports(self.model):
            return self._generate_hf(texts, sampling, add_special_tokens)
        return self._generate_slots(texts, sampling, add_special_tokens)

    def end_tokens(self) -> set[int]:
        """Token ids that end an answer: the tokenizer's end token and the model's (one id or a list)."""
        ends = getattr(getattr(self.model, "generation_config", None), "eos_token_id", None)
        ends = set(ends if isinstance(ends, (list, tuple)) else [] if ends is None else [ends])
        return ends | ({self.tokenizer.eos_token_id} if self.tokenizer.eos_token_id is not None else set())

    def _generate_slots(self, texts: list[str], sampling: Sampling, add_special_tokens: bool) -> list[Completion]:
        """Continuous batching (`batching.decode`): `slots` rows at once, a finished row replaced at once."""
        from .batching import decode

        tok = self.tokenizer
        prompts = tok(texts, add_special_tokens=add_special_tokens)["input_ids"]
        stopped = None
        if sampling.stop:
            window = 2 * max(len(s) for s in sampling.stop) + 4  # tokens: enough to hold the longest stop string

            def stopped(ids: list[int]) -> bool:
                tail = tok.decode(ids[-window:], skip_special_tokens=True)
                return any(s and s in tail for s in sampling.stop)

        ends = self.end_tokens()
        rows = decode(self.model, prompts, max_new_tokens=sampling.max_new_tokens, slots=self.slots,
                      temperature=sampling.temperature, top_p=sampling.top_p, top_k=sampling.top_k,
                      seed=sampling.seed, seeds=sampling.seeds or None, end_tokens=ends, stopped=stopped,
                      stats=self.stats)
        results = []
        for prompt, row in zip(prompts, rows, strict=True):
            text, _ = cut_at_stop(tok.decode(row.tokens, skip_special_tokens=True), sampling.stop)
            results.append(Completion(text, len(prompt), len(row.tokens), row.finish))
        self.usage.add(results)
        return results

    def _generate_hf(self, texts: list[str], sampling: Sampling, add_special_tokens: bool) -> list[Completion]:
        """`model.generate` on batches of `slots` (the batch starting at i is seeded `seed + i`).

        Per-prompt seeds split the call where they stop counting up by one (rounds proposed together),
        so each part is the call it would have been alone."""
        if sampling.seeds:
            out, start = [], 0
            while start < len(texts):
                end = start + 1
                while end < len(texts) and sampling.seeds[end] == sampling.seeds[start] + end - start:
                    end += 1
                out += self._generate_hf(texts[start:end], replace(sampling, seed=sampling.seeds[start], seeds=()),
                                         add_special_tokens)
                start = end
            return out
        out = []
        for start in range(0, len(texts), self.slots):
            out += self._generate_batch(texts[start:start + self.slots], replace(sampling, seed=sampling.seed + start),
                                        add_special_tokens)
        return out

    def _generate_batch(self, texts: list[str], sampling: Sampling, add_special_tokens: bool) -> list[Completion]:
        """One left-padded batch through `model.generate`: every row runs until the longest ends."""
        import torch

        tok = self.tokenizer
        tok.padding_side = "left"  # decoder-only models must see the prompt's last token at the end
        batch = tok(texts, return_tensors="pt", padding=True, add_special_tokens=add_special_tokens)
        batch = batch.to(self.model.device)
        do_sample = sampling.temperature > 0
        torch.manual_seed(sampling.seed)
        kwargs = dict(max_new_tokens=sampling.max_new_tokens, do_sample=do_sample, pad_token_id=tok.pad_token_id)
        if do_sample:
            kwargs.update(temperature=sampling.temperature, top_p=sampling.top_p, top_k=sampling.top_k)
        if sampling.stop:
            kwargs.update(stop_strings=list(sampling.stop), tokenizer=tok)
        with torch.inference_mode(), contiguous_head_input(self.model):
            out = self.model.generate(**batch, **kwargs)
        new = out[:, batch["input_ids"].shape[1]:]
        results = []
        for row, mask in zip(new, batch["attention_mask"], strict=True):
            ids = row.tolist()
            ended = tok.eos_token_id in ids
            if ended:
                ids = ids[: ids.index(tok.eos_token_id) + 1]
            text, stopped = cut_at_stop(tok.decode(ids, skip_special_tokens=True), sampling.stop)
            finish = "stop" if (ended or stopped or len(ids) < sampling.max_new_tokens) else "length"
            results.append(Completion(text, int(mask.sum()), len(ids), finish))
        self.usage.add(results)
        return results

    def complete(self, prompts: list[str], sampling: Sampling) -> list[Completion]:
        """Continue each prompt as plain text (no chat markup)."""
        return self._generate(prompts, sampling, add_special_tokens=True)

    def chat(self, conversations: list[list[dict]], sampling: Sampling) -> list[Completion]:
        """Reply to each conversation through the tokenizer's chat template."""
        texts = [self.tokenizer.apply_chat_template(c, tokenize=False, add_generation_prompt=True) for c in conversations]
        return self._generate(texts, sampling, add_special_tokens=False)


def _decode_stats() -> DecodeStats:
    from .batching import DecodeStats  # torch is imported on first use only

    return DecodeStats()


class TeacherConfigError(RuntimeError):
    """The API teacher is not configured (a variable is missing or malformed)."""


class TeacherUnavailable(RuntimeError):
    """The API teacher's server could not be reached or kept failing (the message never holds the key)."""


MAX_RETRIES = 10  # retries of one request, at most
MAX_BACKOFF_S = 60.0  # the longest wait between two tries
MAX_TIMEOUT_S = 3600.0
MAX_REPLY_BYTES = 50_000_000


def _env_number(name: str, default: float, kind=float, low: float = 0, high: float = math.inf):
    """A number from the environment, finite and within [low, high]; else a TeacherConfigError that names it."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = kind(raw)
    except ValueError:
        raise TeacherConfigError(f"{name}={raw[:40]!r} is not a {'whole number' if kind is int else 'number'}") \
            from None
    if not math.isfinite(value) or not low <= value <= high:
        raise TeacherConfigError(f"{name} must be from {low:g} to {high:g}, got {raw[:40]}")
    return value


def _check_base_url(base: str) -> str:
    """The API base URL if it is one urllib can use (scheme, host, no spaces or control characters)."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(base)
        port_ok = parts.port is None or 0 < parts.port < 65536
    except ValueError:
        parts, port_ok = None, False
    if (parts is None or not port_ok or parts.scheme not in ("http", "https") or not parts.hostname
            or any(c.isspace() or ord(c) < 32 for c in base)):
        raise TeacherConfigError("ALPACA_COURSE_API_BASE must be a URL such as http://localhost:8000/v1 "
                                 "(http or https, a host, no spaces)")
    return base.rstrip("/")


def _check_key(key: str) -> str:
    """The API key if it can go into an HTTP header: printable Latin-1, no line breaks (never echoed)."""
    if any(ord(c) < 32 or ord(c) == 127 or ord(c) > 255 for c in key):
        raise TeacherConfigError("ALPACA_COURSE_API_KEY holds a line break, a control character or a character "
                                 "outside Latin-1; copy the key again (it is not shown here)")
    return key.strip()


@dataclass
class OpenAICompatibleTeacher:
    """A teacher behind an OpenAI-compatible HTTP API, configured from the environment.

    ALPACA_COURSE_API_BASE (e.g. http://localhost:8000/v1), ALPACA_COURSE_API_MODEL and
    ALPACA_COURSE_API_KEY (optional for local servers). The key lives only in memory.
    ALPACA_COURSE_API_TIMEOUT (seconds, default 60) and ALPACA_COURSE_API_RETRIES (default 4) tune patience.
    ALPACA_COURSE_API_CONCURRENCY (default 8) is how many requests are in flight at once: a serving
    engine (vLLM, TGI) batches concurrent requests, so one at a time wastes most of it. Results come
    back in input order whatever order the server finishes them in; request i of a batch is sent
    seed + i, so k copies of one prompt (best-of-k) get k different answers, and the same seed on a
    deterministic server gives the same file.
    """

    base_url: str
    name: str
    timeout: float = 60.0
    max_retries: int = 4
    backoff: float = 1.0
    concurrency: int = 8
    usage: Usage = field(default_factory=Usage)
    _key: str = field(default="", repr=False)

    @classmethod
    def from_env(cls, **kwargs) -> OpenAICompatibleTeacher:
        """Build from ALPACA_COURSE_API_BASE / _MODEL / _KEY; a missing variable is a clear error."""
        base, model = os.environ.get("ALPACA_COURSE_API_BASE"), os.environ.get("ALPACA_COURSE_API_MODEL")
        missing = [n for n, v in (("ALPACA_COURSE_API_BASE", base), ("ALPACA_COURSE_API_MODEL", model)) if not v]
        if missing:
            raise TeacherConfigError(f"set {' and '.join(missing)} to use an API teacher")
        base = _check_base_url(base.strip())
        kwargs.setdefault("timeout", _env_number("ALPACA_COURSE_API_TIMEOUT", 60.0, float, 0.1, MAX_TIMEOUT_S))
        kwargs.setdefault("max_retries", _env_number("ALPACA_COURSE_API_RETRIES", 4, int, 0, MAX_RETRIES))
        kwargs.setdefault("concurrency", _env_number("ALPACA_COURSE_API_CONCURRENCY", 8, int, 1, 256))
        return cls(base, model, _key=_check_key(os.environ.get("ALPACA_COURSE_API_KEY", "")), **kwargs)

    def __post_init__(self) -> None:
        self.max_retries = max(0, min(int(self.max_retries), MAX_RETRIES))
        self.backoff = max(0.0, min(float(self.backoff), MAX_BACKOFF_S))

    def __repr__(self) -> str:
        return f"OpenAICompatibleTeacher(base_url={self.base_url!r}, name={self.name!r}, key={'set' if self._key else 'unset'})"

    def _post(self, route: str, body: dict) -> dict:
        headers = {"Content-Type": "application/json"}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        data = json.dumps(body).encode()
        for attempt in range(self.max_retries + 1):
            request = urllib.request.Request(self.base_url + route, data=data, headers=headers, method="POST")
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    raw = response.read(MAX_REPLY_BYTES + 1)
                if len(raw) > MAX_REPLY_BYTES:
                    raise TeacherUnavailable(f"{self.base_url}{route} sent a reply over {MAX_REPLY_BYTES:,} bytes")
                try:
                    reply = json.loads(raw.decode("utf-8"))
                except (UnicodeDecodeError, ValueError, RecursionError):
                    raise TeacherUnavailable(f"{self.base_url}{route} sent a reply that is not JSON in UTF-8 "
                                             "(is ALPACA_COURSE_API_BASE the API's /v1 address?)") from None
                if not isinstance(reply, dict):
                    raise TeacherUnavailable(f"{self.base_url}{route} sent JSON that is not an object")
                return reply
            except urllib.error.HTTPError as err:
                retryable = err.code == 429 or err.code >= 500
                reason = f"HTTP {err.code}"
            except (urllib.error.URLError, TimeoutError, ConnectionError, http.client.HTTPException) as err:
                retryable, reason = True, type(err).__name__
            except (ValueError, UnicodeError) as err:  # a URL or header urllib cannot send
                raise TeacherConfigError(f"{self.base_url}{route} cannot be requested: {type(err).__name__}") from None
            if not retryable or attempt == self.max_retries:
                raise TeacherUnavailable(f"{self.base_url}{route} failed after {attempt + 1} attempt(s): {reason}")
            wait = min(self.backoff * 2**attempt, MAX_BACKOFF_S)
            log.warning("API teacher: %s, retrying in %.1f s (%d/%d)", reason, wait, attempt + 1, self.max_retries)
            time.sleep(wait)
        raise AssertionError("unreachable")

    def _one(self, route: str, body: dict, sampling: Sampling) -> Completion:
        body = {**body, "model": self.name, "max_tokens": sampling.max_new_tokens,
                "temperature": sampling.temperature, "top_p": sampling.top_p, "seed": sampling.seed}
        if sampling.presence_penalty:
            body["presence_penalty"] = sampling.presence_penalty
        if sampling.stop:
            body["stop"] = list(sampling.stop)[:4]  # the OpenAI API accepts at most four
        reply = self._post(route, body)
        try:
            choice = reply["choices"][0]
            text = choice["message"]["content"] if "message" in choice else choice["text"]
        except (KeyError, IndexError, TypeError):
            raise TeacherUnavailable(f"{self.base_url}{route} sent a reply without choices[0] text") from None
        if text is not None and not isinstance(text, str):
            raise TeacherUnavailable(f"{self.base_url}{route} sent choices[0] text of type {type(text).__name__}")
        text, _ = cut_at_stop(text or "", sampling.stop)
        usage = reply.get("usage")
        usage = usage if isinstance(usage, dict) else {}
        counts = [usage.get(k, 0) for k in ("prompt_tokens", "completion_tokens")]
        counts = [c if isinstance(c, int) and not isinstance(c, bool) and c >= 0 else 0 for c in counts]
        return Completion(text, counts[0], counts[1], "length" if choice.get("finish_reason") == "length" else "stop")

    def _many(self, route: str, bodies: list[dict], sampling: Sampling) -> list[Completion]:
        """One request per body, up to `concurrency` in flight; completions in input order."""
        from concurrent.futures import ThreadPoolExecutor

        sampling.check(len(bodies))
        jobs = [(body, replace(sampling, seed=sampling.seed_of(i), seeds=())) for i, body in enumerate(bodies)]
        if self.concurrency <= 1 or len(jobs) <= 1:
            out = [self._one(route, body, s) for body, s in jobs]
        else:
            with ThreadPoolExecutor(max_workers=min(self.concurrency, len(jobs))) as pool:
                out = list(pool.map(lambda job: self._one(route, *job), jobs))  # map keeps input order
        self.usage.add(out)
        return out

    def complete(self, prompts: list[str], sampling: Sampling) -> list[Completion]:
        """POST /completions once per prompt, `concurrency` at a time."""
        return self._many("/completions", [{"prompt": p} for p in prompts], sampling)

    def chat(self, conversations: list[list[dict]], sampling: Sampling) -> list[Completion]:
        """POST /chat/completions once per conversation, `concurrency` at a time."""
        return self._many("/chat/completions", [{"messages": c} for c in conversations], sampling)


#: US dollars per 1,000 tokens (prompt, completion). Dated list prices; check the provider's page.
PRICES_PER_1K = {
    "text-davinci-003 (2023-03)": (0.02, 0.02),
    "gpt-3.5-turbo-instruct (2023-09)": (0.0015, 0.002),
    "local model": (0.0, 0.0),
}


def estimate_cost(prompt_tokens: int, completion_tokens: int, model: str = "text-davinci-003 (2023-03)") -> float:
    """Dollars for a token count at the listed price of `model`."""
    if model not in PRICES_PER_1K:
        raise KeyError(f"no price for {model!r}; known: {', '.join(PRICES_PER_1K)}")
    prompt_price, completion_price = PRICES_PER_1K[model]
    return prompt_tokens / 1000 * prompt_price + completion_tokens / 1000 * completion_price

"""Continuous batching: a decode loop in which a finished row leaves the batch and a waiting prompt takes its slot.

`model.generate` runs a batch until its longest row ends. Rows that finished early keep being
computed (their padding tokens go through every layer), and the key/value cache is concatenated
anew at every step. Here:

- each of `slots` rows holds one prompt; the keys and values live in one buffer per layer,
  allocated once, and every step writes one position per row into it (no concatenation);
- a row that ends (end token, stop string or token limit) leaves at once: the last active row
  moves into its place, so the active rows are always the first `n` and a step computes only them;
- waiting prompts are prefilled into the free slots, several at a time.

The forward pass calls the model's own modules (embedding, norms, projections, MLP, rotary
table), so LoRA adapters and merged students decode here exactly as they train. Supported: the
Llama family layout (Llama, SmolLM2, Qwen2/3, Mistral without a sliding window); `supports` says
whether a model fits, and `LocalTeacher` falls back to `model.generate` when it does not.

Sampling is per row: prompt `i` of a call draws from its own generator seeded `seed + i` (or `seeds[i]`), so an
answer does not depend on the batch it shared (bar floating-point noise), and k copies of one
prompt give k different samples.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F

#: Model types whose decoder layers have the Llama layout (q/k/v/o projections, two RMSNorms, a gated MLP).
LLAMA_LAYOUT = {"llama", "qwen2", "qwen3", "mistral"}
#: Prefill at most this many token positions in one forward pass (bounds the activation memory).
PREFILL_TOKENS = 4096
#: What one more forward pass costs, in token positions (its fixed overhead), when prefills are split.
PASS_COST = 32
#: Bytes the key/value buffer may take; fewer slots are used when long prompts would need more.
KV_BUDGET = 1 << 30
#: Free slots are refilled once this share of them is free (a prefill is a forward pass of its own).
REFILL_AT = 0.25
#: A shared prefix shorter than this is prefilled again rather than copied.
MIN_SHARED = 8
#: Without a top-k cut, nucleus sampling first looks at this many most likely tokens (exact: see `_sample`).
NUCLEUS_CANDIDATES = 256


@dataclass
class Decoded:
    """One prompt's generated token ids and why it ended ("stop": end token or stop string; "length")."""

    tokens: list[int]
    finish: str


@dataclass
class DecodeStats:
    """What the loop computed: decode steps, rows per step, and token positions through the model."""

    steps: int = 0
    prefill_positions: int = 0  # prompt positions, padding included
    batch_sizes: list[int] = field(default_factory=list)  # active rows at each decode step

    @property
    def positions(self) -> int:
        """Every token position that went through the model."""
        return self.prefill_positions + sum(self.batch_sizes)


def decoder_of(model):
    """The Hugging Face causal LM inside `model` (through a peft wrapper), or None."""
    inner = model.get_base_model() if hasattr(model, "get_base_model") else model
    return inner if hasattr(inner, "model") and hasattr(inner, "lm_head") else None


def supports(model) -> bool:
    """Whether `model` has a layout this loop can run (else use `model.generate`)."""
    lm = decoder_of(model)
    if lm is None:
        return False
    config = lm.config
    if getattr(config, "model_type", None) not in LLAMA_LAYOUT or getattr(config, "sliding_window", None) and \
            getattr(config, "use_sliding_window", config.model_type == "mistral"):
        return False
    core = lm.model
    needed = ("embed_tokens", "layers", "norm", "rotary_emb")
    if not all(hasattr(core, n) for n in needed) or len(core.layers) == 0:
        return False
    layer = core.layers[0]
    attn = getattr(layer, "self_attn", None)
    return all(hasattr(attn, n) for n in ("q_proj", "k_proj", "v_proj", "o_proj")) and \
        all(hasattr(layer, n) for n in ("mlp", "input_layernorm", "post_attention_layernorm"))


def slot_bytes(model, capacity: int) -> int:
    """Bytes of keys and values one slot holds at `capacity` positions."""
    lm = decoder_of(model)
    config = lm.config
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // config.num_attention_heads
    itemsize = lm.model.embed_tokens.weight.element_size()
    return 2 * len(lm.model.layers) * config.num_key_value_heads * head_dim * capacity * itemsize


def _rotate(x: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor) -> torch.Tensor:
    """Rotary position embedding (the half-split form Llama uses)."""
    half = x.shape[-1] // 2
    return x * cos + torch.cat((-x[..., half:], x[..., :half]), dim=-1) * sin


class SlotDecoder:
    """The model, a key/value buffer with one row per slot, and the forward passes over them."""

    def __init__(self, model, slots: int, capacity: int):
        self.lm = decoder_of(model)
        core, config = self.lm.model, self.lm.config
        self.core, self.layers = core, list(core.layers)
        self.kv_heads = config.num_key_value_heads
        self.heads = config.num_attention_heads
        self.head_dim = getattr(config, "head_dim", None) or config.hidden_size // self.heads
        self.group = self.heads // self.kv_heads
        self.scale = getattr(self.layers[0].self_attn, "scaling", self.head_dim ** -0.5)
        weight = core.embed_tokens.weight
        self.device, self.dtype = weight.device, weight.dtype
        shape = (slots, self.kv_heads, capacity, self.head_dim)
        self.keys = [torch.zeros(shape, dtype=self.dtype, device=self.device) for _ in self.layers]
        self.values = [torch.zeros(shape, dtype=self.dtype, device=self.device) for _ in self.layers]
        positions = torch.arange(capacity, device=self.device)[None]
        cos, sin = core.rotary_emb(weight[:1][None], positions)  # the model's own table (its rope scaling too)
        self.cos, self.sin = cos[0].to(self.dtype), sin[0].to(self.dtype)
        # Fewer, larger matmuls: q, k and v in one, gate and up in one, where the layers are plain nn.Linear
        # (a LoRA layer keeps its own forward, adapter included).
        self.pack = self.dtype == torch.float32 and self.device.type == "cpu" and torch.backends.mkldnn.is_available()
        self.qkv = [None if hasattr(layer.self_attn, "q_norm") else self._projection(
            [layer.self_attn.q_proj, layer.self_attn.k_proj, layer.self_attn.v_proj]) for layer in self.layers]
        gated = all(hasattr(layer.mlp, n) for layer in self.layers for n in ("gate_proj", "up_proj", "down_proj", "act_fn"))
        self.gate_up = [self._projection([layer.mlp.gate_proj, layer.mlp.up_proj]) if gated else None
                        for layer in self.layers]
        fused = {id(m) for layer, qkv, gate_up in zip(self.layers, self.qkv, self.gate_up, strict=True)
                 for m in ([layer.self_attn.q_proj, layer.self_attn.k_proj, layer.self_attn.v_proj] if qkv else [])
                 + ([layer.mlp.gate_proj, layer.mlp.up_proj] if gate_up else [])}
        self.single = {m: self._projection([m]) for m in self.lm.modules()
                       if type(m) is torch.nn.Linear and id(m) not in fused}

    def _projection(self, modules: list) -> Callable[[torch.Tensor], torch.Tensor] | None:
        """One matmul for plain `nn.Linear` layers that read the same input (their weights stacked); None otherwise.

        With float32 weights on a CPU the stacked weight is packed for oneDNN, which multiplies the few rows of
        a decode step 1.3-2.4x faster than the default kernel here (benchmarks/RESULTS.md, generation speed).
        """
        if not all(type(m) is torch.nn.Linear for m in modules):
            return None
        weight = torch.cat([m.weight for m in modules]) if len(modules) > 1 else modules[0].weight
        bias = None
        if any(m.bias is not None for m in modules):
            bias = torch.cat([m.bias if m.bias is not None else m.weight.new_zeros(m.out_features) for m in modules])
        if not self.pack:
            return lambda x: F.linear(x, weight, bias)
        weight, bias = weight.to_mkldnn(), None if bias is None else bias.to_mkldnn()

        def packed(x: torch.Tensor) -> torch.Tensor:
            rows = x.reshape(-1, x.shape[-1]).contiguous().to_mkldnn()
            return torch._C._nn.mkldnn_linear(rows, weight, bias).to_dense().view(*x.shape[:-1], -1)
        return packed

    def linear(self, module, x: torch.Tensor) -> torch.Tensor:
        """`module(x)`, through its own projection when it is a plain `nn.Linear`."""
        projection = self.single.get(module)
        return module(x) if projection is None else projection(x)

    def mlp(self, index: int, mlp, x: torch.Tensor) -> torch.Tensor:
        """The gated MLP, down(act(gate(x)) * up(x)), gate and up in one matmul where they are plain layers."""
        fused = self.gate_up[index]
        if fused is not None:
            gate, up = fused(x).chunk(2, dim=-1)
            return self.linear(mlp.down_proj, mlp.act_fn(gate) * up)
        if hasattr(mlp, "gate_proj") and hasattr(mlp, "act_fn"):
            return self.linear(mlp.down_proj, mlp.act_fn(self.linear(mlp.gate_proj, x)) * self.linear(mlp.up_proj, x))
        return mlp(x)

    def _qkv(self, index: int, attn, h: torch.Tensor, cos: torch.Tensor, sin: torch.Tensor):
        rows, length, _ = h.shape
        fused = self.qkv[index]
        if fused is not None:  # q and k rotate together, as one tensor of heads
            heads = fused(h).view(rows, length, self.heads + 2 * self.kv_heads, self.head_dim).transpose(1, 2)
            qk = _rotate(heads[:, :self.heads + self.kv_heads], cos, sin)
            return qk[:, :self.heads], qk[:, self.heads:], heads[:, self.heads + self.kv_heads:]
        q = self.linear(attn.q_proj, h).view(rows, length, self.heads, self.head_dim).transpose(1, 2)
        k = self.linear(attn.k_proj, h).view(rows, length, self.kv_heads, self.head_dim).transpose(1, 2)
        v = self.linear(attn.v_proj, h).view(rows, length, self.kv_heads, self.head_dim).transpose(1, 2)
        if hasattr(attn, "q_norm"):  # Qwen3 normalises each head before the rotation
            q, k = attn.q_norm(q), attn.k_norm(k)
        return _rotate(q, cos, sin), _rotate(k, cos, sin), v

    def _head(self, hidden: torch.Tensor) -> torch.Tensor:
        return self.linear(self.lm.lm_head, self.core.norm(hidden).contiguous()).float()

    def prefill(self, first: int, prompts: Sequence[Sequence[int]], offsets: Sequence[int]) -> torch.Tensor:
        """Write prompt r's keys and values into slot `first + r` from position `offsets[r]` on.

        Positions before an offset already hold that prompt's prefix (copied from a slot that shared it),
        so only the rest goes through the model. Suffixes are right-padded: a real token never attends to
        the padding after it, and decoding overwrites the padding's keys. Returns each prompt's
        next-token logits, (rows, vocab).
        """
        rows, length = len(prompts), max(len(p) for p in prompts)
        ids = torch.zeros((rows, length), dtype=torch.long, device=self.device)
        for r, p in enumerate(prompts):
            ids[r, :len(p)] = torch.tensor(p, dtype=torch.long)
        start = torch.tensor(list(offsets), device=self.device)
        capacity = self.keys[0].shape[2]
        positions = (start[:, None] + torch.arange(length, device=self.device)[None]).clamp(max=capacity - 1)
        span = int(max(o + len(p) for o, p in zip(offsets, prompts, strict=True)))
        fresh = not any(offsets)
        mask = None if fresh else (torch.arange(span, device=self.device)[None, None] <= positions[:, :, None])[:, None]
        cos, sin = self.cos[positions][:, None], self.sin[positions][:, None]
        slot = torch.arange(first, first + rows, device=self.device)[:, None]
        x = self.core.embed_tokens(ids)
        for index, (layer, keys, values) in enumerate(zip(self.layers, self.keys, self.values, strict=True)):
            attn = layer.self_attn
            q, k, v = self._qkv(index, attn, layer.input_layernorm(x), cos, sin)
            keys[slot, :, positions] = k.transpose(1, 2)
            values[slot, :, positions] = v.transpose(1, 2)
            if not fresh:  # attend to the copied prefix as well
                k, v = keys[first:first + rows, :, :span], values[first:first + rows, :, :span]
            k, v = k.repeat_interleave(self.group, dim=1), v.repeat_interleave(self.group, dim=1)
            out = F.scaled_dot_product_attention(q, k, v, attn_mask=mask, is_causal=fresh, scale=self.scale)
            x = x + self.linear(attn.o_proj, out.transpose(1, 2).reshape(rows, length, -1))
            x = x + self.mlp(index, layer.mlp, layer.post_attention_layernorm(x))
        last = torch.tensor([len(p) - 1 for p in prompts], device=self.device)
        return self._head(x[torch.arange(rows, device=self.device), last])

    def step(self, tokens: torch.Tensor, positions: torch.Tensor) -> torch.Tensor:
        """One decode step for the first `len(tokens)` slots: token i goes at `positions[i]`; logits (rows, vocab).

        A single new query per row needs no causal mask, only "keys up to my position". The query heads
        that share a key head are laid side by side as that head's queries, so grouped-query attention
        reads the buffer in place, with no copy of the keys per query head.
        """
        rows, span = tokens.shape[0], int(positions.max()) + 1
        cos, sin = self.cos[positions][:, None, None], self.sin[positions][:, None, None]
        visible = (torch.arange(span, device=self.device)[None] <= positions[:, None])[:, None, None]
        at = torch.arange(rows, device=self.device)
        x = self.core.embed_tokens(tokens[:, None])
        for index, (layer, keys, values) in enumerate(zip(self.layers, self.keys, self.values, strict=True)):
            attn = layer.self_attn
            q, k, v = self._qkv(index, attn, layer.input_layernorm(x), cos, sin)
            keys[at, :, positions] = k[:, :, 0]
            values[at, :, positions] = v[:, :, 0]
            q = q.reshape(rows, self.kv_heads, self.group, self.head_dim)
            out = F.scaled_dot_product_attention(q, keys[:rows, :, :span], values[:rows, :, :span],
                                                 attn_mask=visible, scale=self.scale)
            x = x + self.linear(attn.o_proj, out.reshape(rows, 1, -1))
            x = x + self.mlp(index, layer.mlp, layer.post_attention_layernorm(x))
        return self._head(x[:, 0])

    def move(self, source: int, target: int, length: int) -> None:
        """Copy slot `source`'s first `length` positions into slot `target`."""
        for keys, values in zip(self.keys, self.values, strict=True):
            keys[target, :, :length] = keys[source, :, :length]
            values[target, :, :length] = values[source, :, :length]


def _sample(logits: torch.Tensor, generators: Sequence[torch.Generator], temperature: float, top_p: float,
            top_k: int) -> list[int]:
    """The next token of each row: temperature, then top-k, then nucleus (top-p), as transformers orders them.

    The nucleus keeps a token while the probability of the more likely tokens is below `top_p`. Without a
    top-k cut only the `NUCLEUS_CANDIDATES` most likely tokens are sorted: when they hold at least `top_p`
    of the mass the nucleus lies inside them (exact); a row where they do not sorts its whole vocabulary.
    """
    logits = logits.float().cpu() / temperature  # the per-request generators live on the CPU (a GPU sends its logits)
    vocab = logits.shape[-1]
    if 0 < top_k < vocab:
        values, ids = logits.topk(top_k, dim=-1)
        probs = torch.softmax(values, dim=-1)  # renormalised over the k kept, as the top-k warper leaves them
    elif top_p < 1.0:
        values, ids = logits.topk(min(NUCLEUS_CANDIDATES, vocab), dim=-1)
        probs = (values - torch.logsumexp(logits, dim=-1, keepdim=True)).exp()
    else:
        probs, ids = torch.softmax(logits, dim=-1), None
    rows = [probs[r] for r in range(len(generators))]
    row_ids = [None if ids is None else ids[r] for r in range(len(generators))]
    if top_p < 1.0:
        for r in range(len(rows)):
            if not 0 < top_k < vocab and float(rows[r].sum()) < top_p:  # the nucleus reaches past the candidates
                full, row_ids[r] = torch.softmax(logits[r], dim=-1).sort(descending=True)
                rows[r] = full
            before = rows[r].cumsum(0) - rows[r]
            keep = before < top_p
            keep[0] = True
            rows[r] = torch.where(keep, rows[r], torch.zeros_like(rows[r]))
    out = []
    for p, i, generator in zip(rows, row_ids, generators, strict=True):
        pick = torch.multinomial(p, 1, generator=generator)
        out.append(int(pick) if i is None else int(i[pick]))
    return out


@torch.inference_mode()
def decode(model, prompts: Sequence[Sequence[int]], *, max_new_tokens: int, slots: int = 32,
           temperature: float = 0.0, top_p: float = 1.0, top_k: int = 0, seed: int = 0,
           seeds: Sequence[int] | None = None, end_tokens: Sequence[int] = (), stopped: Callable[[list[int]], bool] | None = None,
           stats: DecodeStats | None = None) -> list[Decoded]:
    """Generate for every prompt (token ids) with at most `slots` rows at once; results in input order.

    `temperature` 0 is greedy; prompt i samples with `seeds[i]`, or `seed + i` when `seeds` is None. `end_tokens` end a row (the end token is kept, as `generate` keeps it);
    `stopped(tokens)` may end it too (a stop string). Free slots are refilled once `REFILL_AT` of them
    are free or no row is left running, so prefills come several at a time.
    """
    if not prompts:
        return []
    if any(len(p) == 0 for p in prompts):
        raise ValueError("every prompt needs at least one token")
    if max_new_tokens < 1:
        raise ValueError(f"max_new_tokens must be at least 1, got {max_new_tokens}")
    if seeds is not None and len(seeds) != len(prompts):
        raise ValueError(f"{len(seeds)} seeds for {len(prompts)} prompts")
    stats = stats if stats is not None else DecodeStats()
    capacity = max(len(p) for p in prompts) + max_new_tokens
    slots = max(1, min(slots, len(prompts), KV_BUDGET // slot_bytes(model, capacity)))
    engine = SlotDecoder(model, slots, capacity)
    ends = set(end_tokens)
    results: list[Decoded | None] = [None] * len(prompts)
    waiting = list(range(len(prompts)))[::-1]  # popped from the end: input order
    owner: list[int] = []  # prompt index in each active slot
    tokens: list[list[int]] = []  # generated ids in each active slot
    lengths: list[int] = []  # positions filled in each active slot's buffer
    generators: list[torch.Generator] = []  # the token a slot feeds next is the last of its `tokens`

    def admit() -> None:
        """Fill the free slots from the queue, reusing the keys of any active prompt that shares a prefix.

        A prompt whose best donor is another prompt of this admission waits one wave, for that one to be
        prefilled first (k copies of one prompt in best-of-k; the shared header of list prompts).
        """
        group = []
        while waiting and len(owner) + len(group) < slots:
            group.append(waiting.pop())
        while group:
            wave, later = [], []
            for i in group:
                donor, shared = _donor(prompts[i], [prompts[owner[s]] for s in range(len(owner))])
                ahead = max((_shared(prompts[i], prompts[j]) for j, _, _ in wave), default=0)
                if (not owner and wave) or ahead > shared + MIN_SHARED:
                    later.append(i)
                else:
                    wave.append((i, donor, shared))
            wave.sort(key=lambda row: len(prompts[row[0]]) - row[2])  # similar lengths share a chunk: less padding
            for chunk in _chunks(wave, [len(prompts[i]) - shared for i, _, shared in wave]):
                first = len(owner)
                for r, (_, donor, shared) in enumerate(chunk):
                    if shared:
                        engine.move(donor, first + r, shared)
                suffixes = [prompts[i][shared:] for i, _, shared in chunk]
                logits = engine.prefill(first, suffixes, [shared for _, _, shared in chunk])
                stats.prefill_positions += len(chunk) * max(map(len, suffixes))
                for i, _, _ in chunk:
                    owner.append(i)
                    tokens.append([])
                    lengths.append(len(prompts[i]))
                    generators.append(torch.Generator(device="cpu").manual_seed(seed + i if seeds is None else seeds[i]))
                chosen = _choose(logits, generators[first:], temperature, top_p, top_k)
                for s, t in zip(range(first, len(owner)), chosen, strict=True):
                    tokens[s].append(t)
            group = later

    def finished(s: int) -> str | None:
        if tokens[s][-1] in ends or (stopped is not None and stopped(tokens[s])):
            return "stop"
        return "length" if len(tokens[s]) >= max_new_tokens else None

    def retire(s: int, why: str) -> None:
        results[owner[s]] = Decoded(tokens[s], why)
        last = len(owner) - 1
        if s != last:  # the last active row takes the free slot, so the active rows stay a prefix
            engine.move(last, s, lengths[last])
            for state in (owner, tokens, lengths, generators):
                state[s] = state[last]
        for state in (owner, tokens, lengths, generators):
            state.pop()

    def sweep() -> None:
        for s in range(len(owner) - 1, -1, -1):
            why = finished(s)
            if why:
                retire(s, why)

    admit()
    sweep()
    while owner or waiting:
        if waiting and (not owner or slots - len(owner) >= max(1, int(REFILL_AT * slots))):
            admit()
            sweep()
            continue
        feed = torch.tensor([t[-1] for t in tokens], device=engine.device)
        logits = engine.step(feed, torch.tensor(lengths, device=engine.device))
        stats.steps += 1
        stats.batch_sizes.append(len(owner))
        chosen = _choose(logits, generators, temperature, top_p, top_k)
        for s, t in enumerate(chosen):
            lengths[s] += 1
            tokens[s].append(t)
        sweep()
    return results  # type: ignore[return-value]


def _shared(a: Sequence[int], b: Sequence[int]) -> int:
    """How many leading tokens two prompts share, leaving `a` at least one token of its own to prefill."""
    limit, n = min(len(a) - 1, len(b)), 0
    while n < limit and a[n] == b[n]:
        n += 1
    return n


def _donor(prompt: Sequence[int], active: Sequence[Sequence[int]]) -> tuple[int, int]:
    """(slot, shared length) of the active prompt sharing the longest prefix with `prompt`; (0, 0) if none is worth it."""
    best, slot = 0, 0
    for s, other in enumerate(active):
        n = _shared(prompt, other)
        if n > best:
            best, slot = n, s
    return (slot, best) if best >= MIN_SHARED else (0, 0)


def _chunks(items: list, sizes: list[int]) -> list[list]:
    """Split items (sorted by size) into prefill passes: least padding plus `PASS_COST` positions per pass.

    Each pass pads its rows to its longest one and holds at most `PREFILL_TOKENS` positions (one row at
    least). A small dynamic programme over the sorted sizes finds the cheapest split.
    """
    n = len(items)
    best, cut = [0.0] + [float("inf")] * n, [0] * (n + 1)
    for end in range(1, n + 1):
        for start in range(end - 1, -1, -1):
            rows, longest = end - start, sizes[end - 1]
            if rows > 1 and rows * longest > PREFILL_TOKENS:
                break
            cost = best[start] + rows * longest + PASS_COST
            if cost < best[end]:
                best[end], cut[end] = cost, start
    out, end = [], n
    while end > 0:
        out.append(items[cut[end]:end])
        end = cut[end]
    return out[::-1]


def _choose(logits: torch.Tensor, generators, temperature: float, top_p: float, top_k: int) -> list[int]:
    if temperature <= 0:
        return logits.argmax(dim=-1).tolist()
    return _sample(logits, generators, temperature, top_p, top_k)

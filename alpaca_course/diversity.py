"""Diversity metrics for a set of texts, with named definitions and an equal-N report.

Lexical metrics move with corpus size and text length, so compare sets only at the same N
(`diversity_report` subsamples to a fixed N and reports N and mean length with every number).

Definitions used here (see the lesson for why each matters):
- distinct-n: corpus-level unique n-grams / all n-grams, n-grams taken within each text.
- self-BLEU: Texygen style, each text against all others as references, BLEU up to n-grams of
  order 3 with uniform weights and "method 1" smoothing; our own word tokenizer (no NLTK data).
- compression ratio: bytes of the texts joined by spaces / bytes after one plain gzip pass.
- homogenization: mean ROUGE-L F over all ordered pairs of different texts (disjoint texts score 0).
- n-gram diversity: sum over n = 1..4 of unique / total n-grams of the whitespace-joined corpus.
- self-repetition: mean over texts of log(1 + how often its 4-grams occur in other texts).
- Vendi score: exp of the entropy of the eigenvalues of K/N for a similarity matrix K (order q).
"""

from __future__ import annotations

import gzip
import math
import random
import re
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from .rouge import rouge_l_matrix

_WORD = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[^\sa-z0-9]", re.IGNORECASE)


def words(text: str) -> list[str]:
    """Lowercased word tokens; punctuation marks are tokens of their own."""
    return _WORD.findall(text.lower())


def ngrams(tokens: Sequence[str], n: int) -> list[tuple[str, ...]]:
    """Consecutive n-grams of a token list (none when it is shorter than n)."""
    return [tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)]


def distinct_n(texts: Sequence[str], n: int, tokenizer: Callable[[str], list[str]] = str.split) -> float:
    """Corpus-level distinct-n: unique n-grams / all n-grams, n-grams within each text (0 when there are none)."""
    grams = [g for t in texts for g in ngrams(tokenizer(t), n)]
    return len(set(grams)) / len(grams) if grams else 0.0


def compression_ratio(texts: Sequence[str]) -> float:
    """Raw bytes / gzip bytes of the texts joined by spaces (higher = more repetitive). One gzip pass, mtime 0."""
    raw = " ".join(texts).encode("utf-8")
    return len(raw) / len(gzip.compress(raw, compresslevel=9, mtime=0)) if raw else 0.0


def homogenization(texts: Sequence[str], use_stemmer: bool = False) -> float:
    """Mean ROUGE-L F over ordered pairs of different texts. Disjoint texts give 0, identical ones 1."""
    if len(texts) < 2:
        raise ValueError("homogenization needs at least two texts")
    matrix = rouge_l_matrix(list(texts), list(texts), use_stemmer=use_stemmer)
    n = len(texts)
    return float((matrix.sum() - np.trace(matrix)) / (n * (n - 1)))


def ngram_diversity(texts: Sequence[str], num_n: int = 4) -> float:
    """Sum over n = 1..num_n of unique/total n-grams of the corpus joined by spaces (range 0..num_n)."""
    tokens = " ".join(texts).split(" ")
    total = 0.0
    for n in range(1, num_n + 1):
        grams = ngrams(tokens, n)
        total += len(set(grams)) / len(grams) if grams else 0.0
    return total


def self_repetition(texts: Sequence[str], n: int = 4) -> float:
    """Mean over texts of log(1 + occurrences of the text's n-grams in other texts) (higher = more repetitive)."""
    sets = [set(ngrams(t.split(), n)) for t in texts]
    document_frequency = Counter(g for s in sets for g in s)
    scores = [math.log(sum(document_frequency[g] for g in s) - len(s) + 1) for s in sets]
    return sum(scores) / len(scores) if scores else 0.0


def _sentence_bleu(hyp: list[str], ref_count: Callable[[int, tuple], int], ref_lengths: Sequence[int],
                   order: int) -> float:
    """BLEU of one hypothesis; ref_count(n, gram) is the gram's largest count in any reference (NLTK method 1)."""
    if not hyp:
        return 0.0
    log_sum = 0.0
    for n in range(1, order + 1):
        counts = Counter(ngrams(hyp, n))
        total = max(1, sum(counts.values()))
        matched = sum(min(c, ref_count(n, g)) for g, c in counts.items())
        if n == 1 and matched == 0:
            return 0.0
        precision = matched / total if matched else 0.1 / total
        log_sum += math.log(precision) / order
    closest = min(ref_lengths, key=lambda r: (abs(r - len(hyp)), r))
    brevity = 1.0 if len(hyp) > closest else math.exp(1 - closest / len(hyp))
    return brevity * math.exp(log_sum)


def self_bleu(texts: Sequence[str], order: int = 3, max_texts: int | None = 500, seed: int = 0,
              tokenizer: Callable[[str], list[str]] = words) -> float:
    """Texygen-style self-BLEU: mean BLEU of each text against all the others (higher = less diverse).

    For speed, each n-gram's largest and second-largest count over all texts are kept once, so
    "the largest count among the other texts" is a lookup (leave-one-out without N^2 work).
    """
    texts = list(texts)
    if max_texts is not None and len(texts) > max_texts:
        texts = random.Random(seed).sample(texts, max_texts)
    if len(texts) < 2:
        raise ValueError("self-BLEU needs at least two texts")
    tokens = [tokenizer(t) for t in texts]
    per_text = [[Counter(ngrams(tok, n)) for n in range(1, order + 1)] for tok in tokens]
    best: list[dict] = [{} for _ in range(order)]  # n-gram -> (top count, owner, second count)
    for i, counters in enumerate(per_text):
        for n, counter in enumerate(counters):
            table = best[n]
            for g, c in counter.items():
                top, owner, second = table.get(g, (0, -1, 0))
                table[g] = (c, i, top) if c > top else (top, owner, max(second, c))
    lengths = [len(t) for t in tokens]
    scores = []
    for i, tok in enumerate(tokens):

        def others_max(n: int, gram: tuple, me: int = i) -> int:
            """The gram's largest count in any text except text `me`."""
            top, owner, second = best[n - 1].get(gram, (0, -1, 0))
            return second if owner == me else top

        scores.append(_sentence_bleu(tok, others_max, lengths[:i] + lengths[i + 1:], order))
    return sum(scores) / len(scores)


def vendi_score(K: np.ndarray, q: float = 1) -> float:
    """Vendi score of a similarity matrix K (ones on the diagonal): the effective number of distinct items.

    VS = exp(entropy of the eigenvalues of K/N) for q = 1; exp(log(sum l^q)/(1-q)) for other q;
    1/max(l) for q = inf. Ranges from 1 (all the same) to N (all different).
    """
    K = np.asarray(K, dtype=np.float64)
    if K.ndim != 2 or K.shape[0] != K.shape[1] or K.shape[0] == 0:
        raise ValueError(f"K must be a non-empty square matrix, got shape {K.shape}")
    eigenvalues = np.linalg.eigvalsh(K / K.shape[0])
    eigenvalues = eigenvalues[eigenvalues > 0]  # PSD up to rounding; a clearly negative one means K is not a kernel
    if q == 1:
        return float(np.exp(-np.sum(eigenvalues * np.log(eigenvalues))))
    if q == math.inf:
        return float(1 / eigenvalues.max())
    return float(np.exp(np.log(np.sum(eigenvalues**q)) / (1 - q)))


def cosine_gram(vectors: np.ndarray) -> np.ndarray:
    """Cosine similarity matrix of row vectors (zero rows are left at zero similarity)."""
    vectors = np.asarray(vectors, dtype=np.float64)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    unit = np.divide(vectors, norms, out=np.zeros_like(vectors), where=norms > 0)
    return unit @ unit.T


def count_cosine_gram(counts: Sequence[Counter]) -> np.ndarray:
    """Cosine similarity of count vectors given as Counters, without building the full vocabulary matrix.

    Only features that occur in two or more texts can make two texts similar, so the dense matrix
    holds just those columns; each text's own norm comes from all its counts.
    """
    n = len(counts)
    document_frequency = Counter(g for c in counts for g in c)
    shared = {g: j for j, g in enumerate(g for g, df in document_frequency.items() if df > 1)}
    matrix = np.zeros((n, max(1, len(shared))))
    for i, c in enumerate(counts):
        for g, value in c.items():
            if g in shared:
                matrix[i, shared[g]] = value
    gram = matrix @ matrix.T
    squares = np.array([float(sum(v * v for v in c.values())) for c in counts])
    np.fill_diagonal(gram, squares)
    norms = np.sqrt(squares)
    scale = np.outer(norms, norms)
    return np.divide(gram, scale, out=np.zeros_like(gram), where=scale > 0)


def ngram_vendi(texts: Sequence[str], ns: Sequence[int] = (1, 2, 3, 4), q: float = 1,
                tokenizer: Callable[[str], list[str]] = words) -> float:
    """Vendi score of the mean cosine similarity of n-gram count vectors over the given n."""
    K = np.zeros((len(texts), len(texts)))
    tokens = [tokenizer(t) for t in texts]
    for n in ns:
        gram = count_cosine_gram([Counter(ngrams(tok, n)) for tok in tokens])
        np.fill_diagonal(gram, 1.0)  # a text too short for n-grams is still identical to itself
        K += gram / len(ns)
    return vendi_score(K, q)



def embed_texts(model, tokenizer, texts: Sequence[str], batch_size: int = 32, max_length: int = 128) -> np.ndarray:
    """Mean-pooled last hidden states of a causal LM (e.g. the bundled model): one vector per text, offline."""
    import torch

    tokenizer.padding_side = "right"
    vectors = []
    with torch.inference_mode():
        for start in range(0, len(texts), batch_size):
            batch = tokenizer(list(texts[start:start + batch_size]), return_tensors="pt", padding=True,
                              truncation=True, max_length=max_length).to(model.device)
            hidden = model(**batch, output_hidden_states=True).hidden_states[-1].float()
            mask = batch["attention_mask"].unsqueeze(-1).float()
            vectors.append(((hidden * mask).sum(1) / mask.sum(1).clamp(min=1)).cpu().numpy())
    return np.concatenate(vectors) if vectors else np.zeros((0, 0))


def nearest_rouge(texts: Sequence[str], pool: Sequence[str]) -> np.ndarray:
    """For each text, its highest ROUGE-L F against the pool (e.g. generated vs seed instructions)."""
    return rouge_l_matrix(list(texts), list(pool)).max(axis=1)


# --- the panel ------------------------------------------------------------------------------------

PANEL: dict[str, tuple[Callable[[Sequence[str]], float], str]] = {
    "distinct-1": (lambda t: distinct_n(t, 1), "higher = more diverse"),
    "distinct-2": (lambda t: distinct_n(t, 2), "higher = more diverse"),
    "self-BLEU-3": (lambda t: self_bleu(t, 3), "lower = more diverse"),
    "compression ratio": (compression_ratio, "lower = more diverse"),
    "homogenization (ROUGE-L)": (homogenization, "lower = more diverse"),
    "n-gram diversity (1-4)": (ngram_diversity, "higher = more diverse"),
    "self-repetition (4-grams)": (self_repetition, "lower = more diverse"),
    "n-gram Vendi": (ngram_vendi, "higher = more diverse (effective count)"),
}


@dataclass
class DiversityReport:
    """Metric -> (value, low, high) at a fixed sample size N, with the mean length in words."""

    n: int
    mean_words: float
    samples: int
    values: dict[str, tuple[float, float, float]] = field(default_factory=dict)
    label: str = ""

    def to_dict(self) -> dict:
        """Plain data, for JSON."""
        return {"label": self.label, "n": self.n, "mean_words": round(self.mean_words, 2), "samples": self.samples,
                "metrics": {k: {"value": v, "low": lo, "high": hi, "direction": PANEL[k][1] if k in PANEL else ""}
                            for k, (v, lo, hi) in self.values.items()}}

    def __str__(self) -> str:
        head = f"{self.label + ': ' if self.label else ''}N = {self.n}, mean length {self.mean_words:.1f} words"
        if self.samples > 1:
            head += (f", mean and 2.5-97.5 percentile range over {self.samples} random subsets of N "
                     "(they overlap: a spread, not a confidence interval)")
        rows = [head]
        for name, (value, low, high) in self.values.items():
            interval = f"  [{low:.4f}, {high:.4f}]" if self.samples > 1 else ""
            rows.append(f"  {name:<27}{value:>10.4f}{interval}   ({PANEL.get(name, ('', ''))[1]})")
        return "\n".join(rows)

    def _repr_html_(self) -> str:
        cells = "".join(
            f"<tr><td>{name}</td><td>{v:.4f}</td><td>{'' if self.samples < 2 else f'{lo:.4f} - {hi:.4f}'}</td>"
            f"<td>{PANEL.get(name, ('', ''))[1]}</td></tr>" for name, (v, lo, hi) in self.values.items())
        return (f"<p><b>{self.label}</b> N = {self.n}, mean length {self.mean_words:.1f} words"
                f"{f', {self.samples} subsamples' if self.samples > 1 else ''}</p>"
                f"<table><tr><th>metric</th><th>value</th><th>range over subsets</th><th>reading</th></tr>{cells}</table>")


def diversity_report(texts: Sequence[str], n: int | None = None, samples: int = 10, seed: int = 0,
                     metrics: Sequence[str] | None = None, label: str = "") -> DiversityReport:
    """The panel on `samples` random subsets of exactly n texts (mean and the 2.5-97.5 percentile range).

    With n equal to the number of texts there is only one subset, so no interval is given.
    """
    texts = list(texts)
    n = n or len(texts)
    if n > len(texts):
        raise ValueError(f"asked for N = {n} but there are only {len(texts)} texts")
    if n < 2:
        raise ValueError("the panel needs at least two texts")
    rng = random.Random(seed)
    subsets = [texts] if n == len(texts) else [rng.sample(texts, n) for _ in range(samples)]
    names = list(metrics or PANEL)
    values = {}
    for name in names:
        scores = np.array([PANEL[name][0](s) for s in subsets])
        values[name] = (float(scores.mean()), float(np.percentile(scores, 2.5)), float(np.percentile(scores, 97.5)))
    mean_words = float(np.mean([len(t.split()) for t in texts]))
    return DiversityReport(n=n, mean_words=mean_words, samples=len(subsets), values=values, label=label)


def file_texts(path, field: str = "instruction") -> list[str]:
    """The non-empty texts of one field of a data file (at least two, else a DataError naming the file and field)."""
    from .data import DataError, load_records

    texts = [getattr(r, field) for r in load_records(path) if getattr(r, field).strip()]
    if len(texts) < 2:
        raise DataError(path, None, field, f"need at least two non-empty texts, found {len(texts)}")
    return texts


def file_report(path, field: str = "instruction", n: int | None = None, samples: int = 10):
    """(DiversityReport, verb-noun summary or None) for one text field of a data file."""
    from .verbnoun import analyze

    texts = file_texts(path, field)
    report = diversity_report(texts, n=min(n, len(texts)) if n else None, samples=samples, label=f"{path} ({field})")
    return report, analyze(texts).summary() if field == "instruction" else None


def compare_files(paths: Sequence, field: str = "instruction", n: int | None = None,
                  samples: int = 10) -> list[DiversityReport]:
    """The panel of several files at one N: the smallest file's size (or `n` if smaller), since every
    metric here moves with N and a bigger file would otherwise look more (or less) diverse by size alone."""
    texts = [file_texts(p, field) for p in paths]
    common = min(len(t) for t in texts)
    n = min(n, common) if n else common
    return [diversity_report(t, n=n, samples=samples, label=f"{p} ({field})") for p, t in zip(paths, texts, strict=True)]


def comparison_table(reports: Sequence[DiversityReport]) -> str:
    """Metric rows, one column per report (value, and the 2.5-97.5 percentile range of its subsamples)."""
    def cell(r, name):
        value, low, high = r.values[name]
        return f"{value:.4f}" + (f" ({low:.4f}-{high:.4f})" if r.samples > 1 else "")

    lines = [f"N = {reports[0].n} texts from each file; a range is the 2.5-97.5 percentiles over random subsets of N "
             "(they overlap, so it shows sampling spread, not a confidence interval)"]
    lines += [f"  [{i}] {r.label}: {r.samples} subset(s), mean length {r.mean_words:.1f} words"
              for i, r in enumerate(reports, start=1)]
    width = max(len(name) for name in reports[0].values) + 2
    lines.append(" " * width + "".join(f"[{i}]".ljust(26) for i in range(1, len(reports) + 1)) + "reading")
    for name in reports[0].values:
        lines.append(f"{name:<{width}}" + "".join(cell(r, name).ljust(26) for r in reports)
                     + PANEL.get(name, ("", ""))[1])
    return "\n".join(lines)

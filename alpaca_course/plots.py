"""Figures for the lessons (matplotlib only, so they render offline, in tests and in exported HTML).

Every figure carries alt text: the sentence a screen reader says instead of the picture. Each helper here writes it
from the data it drew (`fig.alt_text`); a figure drawn by hand in a lesson passes its own to `show`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np


def _figure(width: float = 7, height: float = 4):
    import matplotlib.pyplot as plt

    return plt.subplots(figsize=(width, height))


def summarize(values: Sequence[float], unit: str = "", digits: int = 2) -> str:
    """'n = 64, median 0.31, range 0.05 to 0.69': the words a histogram's alt text is made of."""
    if not len(values):
        return "no values"
    v = np.asarray(values, dtype=float)
    unit = f" {unit}" if unit else ""
    return (f"n = {len(v)}, median {np.median(v):.{digits}f}{unit}, "
            f"range {v.min():.{digits}f} to {v.max():.{digits}f}{unit}")


def show(fig, alt: str | None = None) -> None:
    """Display a figure as a PNG with alt text (the helper's own `fig.alt_text` unless given), then close it."""
    import io

    import matplotlib.pyplot as plt
    from IPython.display import Image, display

    alt = alt or getattr(fig, "alt_text", None)
    if not alt or not alt.strip():
        raise ValueError("a figure needs alt text: pass show(fig, alt='what the figure shows')")
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", bbox_inches="tight")
    plt.close(fig)
    display(Image(buffer.getvalue(), metadata={"alt": " ".join(alt.split())}))


def sunburst(top: Mapping[str, Sequence[tuple[str, int]]], title: str = "Root verbs and their direct objects"):
    """Two-ring sunburst: verbs inside, their most common objects outside (from VerbNounAnalysis.top())."""
    import matplotlib.pyplot as plt

    fig, ax = _figure(7, 7)
    verbs = list(top)
    inner = [sum(c for _, c in top[v]) for v in verbs]
    outer_labels = [n for v in verbs for n, _ in top[v]]
    outer = [c for v in verbs for _, c in top[v]]
    cmap = plt.get_cmap("tab20")
    inner_colors = [cmap(i % 20) for i in range(len(verbs))]
    outer_colors = [inner_colors[i] for i, v in enumerate(verbs) for _ in top[v]]
    ax.pie(outer, radius=1.0, labels=outer_labels, colors=outer_colors, labeldistance=1.03,
           wedgeprops={"width": 0.35, "edgecolor": "white", "alpha": 0.6}, textprops={"fontsize": 7})
    ax.pie(inner, radius=0.65, labels=verbs, colors=inner_colors, labeldistance=0.55,
           wedgeprops={"width": 0.35, "edgecolor": "white"}, textprops={"fontsize": 8})
    ax.set(aspect="equal", title=title)
    fig.alt_text = (f"{title}. Sunburst chart: the inner ring holds the {len(verbs)} most common root verbs, "
                    f"largest first: " + ", ".join(f"{v} ({n})" for v, n in zip(verbs, inner, strict=True)) +
                    ". The outer ring holds each verb's most common objects.")
    return fig


def nearest_seed_histogram(scores: Sequence[float], threshold: float | None = None, title: str | None = None):
    """Histogram of each text's highest ROUGE-L against the seed tasks, with the filter threshold marked
    (default: the novelty filter's own, `filters.ROUGE_THRESHOLD`)."""
    from .filters import ROUGE_THRESHOLD

    threshold = ROUGE_THRESHOLD if threshold is None else threshold
    fig, ax = _figure()
    ax.hist(scores, bins=np.linspace(0, 1, 21), color="tab:blue", edgecolor="white")
    ax.axvline(threshold, color="tab:red", linestyle="--", label=f"novelty threshold {threshold}")
    ax.set(xlabel="ROUGE-L with the most similar seed task", ylabel="instructions",
           title=title or f"How close are the {len(scores)} instructions to the seeds?")
    ax.legend()
    above = sum(x >= threshold for x in scores)
    fig.alt_text = (f"Histogram of each instruction's highest ROUGE-L with the seed tasks: {summarize(scores)}; "
                    f"{above} at or above the novelty threshold {threshold} (a dashed line).")
    return fig


def length_histograms(columns: Mapping[str, Sequence[str]], title: str = "Lengths in words"):
    """One histogram per text column (e.g. instruction, input, output), lengths in words."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(columns), figsize=(4 * len(columns), 3.5), squeeze=False)
    said = []
    for ax, (name, texts) in zip(axes[0], columns.items(), strict=True):
        lengths = [len(t.split()) for t in texts if t.strip()]
        ax.hist(lengths, bins=20, color="tab:green", edgecolor="white")
        ax.set(title=f"{name} (n={len(lengths)})", xlabel="words", ylabel="count")
        said.append(f"{name}: {summarize(lengths, 'words', 0)}" if lengths else f"{name}: all empty")
    fig.suptitle(title)
    fig.tight_layout()
    fig.alt_text = f"{title}, one histogram per column. " + "; ".join(said) + "."
    return fig


def metric_comparison(reports: Sequence, metrics: Sequence[str] | None = None):
    """Bar charts comparing DiversityReports metric by metric (error bars: the subsample interval)."""
    import matplotlib.pyplot as plt

    metrics = list(metrics or reports[0].values)
    cols = min(4, len(metrics))
    rows = -(-len(metrics) // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols, 2.8 * rows), squeeze=False)
    labels = [r.label or f"set {i}" for i, r in enumerate(reports)]
    for ax, name in zip(axes.flat, metrics, strict=False):
        values = [r.values[name] for r in reports]
        centre = [v[0] for v in values]
        err = np.array([[v[0] - v[1] for v in values], [v[2] - v[0] for v in values]])
        ax.bar(range(len(reports)), centre, yerr=err, color=plt.get_cmap("tab10").colors[: len(reports)])
        ax.set_xticks(range(len(reports)), labels, rotation=30, ha="right", fontsize=8)
        ax.set_title(name, fontsize=9)
    for ax in list(axes.flat)[len(metrics):]:
        ax.axis("off")
    fig.suptitle(f"Diversity at equal N = {reports[0].n}")
    fig.tight_layout()
    said = "; ".join(f"{name}: " + ", ".join(f"{label} {r.values[name][0]:.3f}" for label, r in
                                             zip(labels, reports, strict=True)) for name in metrics)
    fig.alt_text = f"Bar charts, one per diversity metric, at equal N = {reports[0].n}, with intervals. {said}."
    return fig


def tradeoff(points: Mapping[str, tuple[float, float]], xlabel: str = "validity rate",
             ylabel: str = "diversity", title: str = "Diversity vs validity"):
    """Scatter of labelled (x, y) points, e.g. each strategy's validity rate and a diversity score."""
    fig, ax = _figure(6, 4.5)
    for label, (x, y) in points.items():
        ax.scatter([x], [y], s=60)
        ax.annotate(label, (x, y), textcoords="offset points", xytext=(5, 5), fontsize=9)
    ax.set(xlabel=xlabel, ylabel=ylabel, title=title)
    fig.alt_text = (f"{title}: a scatter of {len(points)} points, {xlabel} across and {ylabel} up. " +
                    "; ".join(f"{label} at {x:.2f} and {y:.3f}" for label, (x, y) in points.items()) + ".")
    return fig


def loss_curve(steps: Sequence[int], losses: Sequence[float], eval_points: Mapping[int, float] | None = None):
    """Training loss per step, with held-out loss points when given."""
    fig, ax = _figure()
    ax.plot(steps, losses, label="training loss")
    if eval_points:
        ax.plot(list(eval_points), list(eval_points.values()), "o-", label="held-out loss")
    ax.set(xlabel="step", ylabel="loss", title="Training curve")
    ax.legend()
    losses = list(losses)
    held = "; held-out loss " + ", ".join(f"{v:.3f} at step {k}" for k, v in eval_points.items()) if eval_points else ""
    fig.alt_text = (f"Line chart of training loss over {len(losses)} steps: {losses[0]:.3f} at the first step, "
                    f"{losses[-1]:.3f} at the last, lowest {min(losses):.3f}{held}." if losses else "An empty training curve.")
    return fig


def timeline(events: Sequence[tuple[str, str, str, str]], title: str = "Training on outputs: a dated timeline"):
    """Events (ISO date, label, source key, track): one row per event in date order, coloured by track.

    A date of only year and month ("2025-01") is drawn mid-month.
    """
    import datetime as dt

    import matplotlib.dates as mdates
    import matplotlib.pyplot as plt

    rows = sorted(events, key=lambda e: e[0] if len(e[0]) == 10 else f"{e[0]}-15")
    tracks = list(dict.fromkeys(track for *_, track in rows))
    colors = dict(zip(tracks, plt.get_cmap("tab10").colors, strict=False))
    fig, ax = _figure(10, 0.9 + 0.32 * len(rows))
    days = [dt.date.fromisoformat(d if len(d) == 10 else f"{d}-15") for d, *_ in rows]
    middle = days[0] + (days[-1] - days[0]) / 2
    in_legend: set[str] = set()
    for y, (day, (_, label, source, track)) in enumerate(zip(days, rows, strict=True)):
        ax.scatter([day], [y], color=colors[track], s=36, zorder=3, label=None if track in in_legend else track)
        in_legend.add(track)
        right = day < middle
        ax.annotate(f"{label} [{source}]", (day, y), xytext=(8 if right else -8, 0), textcoords="offset points",
                    ha="left" if right else "right", va="center", fontsize=8)
    ax.invert_yaxis()
    ax.set_yticks([])
    ax.spines["left"].set_visible(False)
    ax.xaxis.set_major_locator(mdates.MonthLocator(bymonth=(1, 7)))
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))
    ax.grid(axis="x", color="0.9")
    ax.legend(loc="lower left", fontsize=8, frameon=False)
    ax.set_title(title)
    fig.tight_layout()
    fig.alt_text = (f"{title}: {len(rows)} events from {rows[0][0]} to {rows[-1][0]}, in date order. " +
                    "; ".join(f"{d}, {label} ({track})" for d, label, _, track in rows) + ".")
    return fig


def plot_loop(stats: Sequence):
    """Diversity of samples and loss on real text (all of it, and its rare tokens) per generation, a line per mode
    (collapse.GenerationStats rows)."""
    import matplotlib.pyplot as plt

    panels = (("distinct_2", "distinct-2 of samples (higher = more varied)"),
              ("self_bleu", "self-BLEU of samples (higher = more alike)"),
              ("held_out_loss", "loss on real held-out text"),
              ("rare_loss", "loss on its rare tokens (the tail)"))
    fig, axes = plt.subplots(1, len(panels), figsize=(15, 3.5))
    modes = list(dict.fromkeys(getattr(s, "mode", "replace") for s in stats))
    for mode in modes:
        rows = [s for s in stats if getattr(s, "mode", "replace") == mode]
        for ax, (key, title) in zip(axes, panels, strict=True):
            ax.plot([s.generation for s in rows], [getattr(s, key) for s in rows], "o-", label=mode)
            ax.set(title=title, xlabel="generation")
            ax.set_xticks([s.generation for s in rows])
    if len(modes) > 1:
        axes[0].legend()
    fig.tight_layout()
    said = []
    for mode in modes:
        rows = [s for s in stats if getattr(s, "mode", "replace") == mode]
        said.append(f"{mode}: " + ", ".join(f"{title.split(' (')[0]} {getattr(rows[0], key):.3f} to "
                                            f"{getattr(rows[-1], key):.3f}" for key, title in panels))
    fig.alt_text = (f"Four line charts over generations {stats[0].generation} to {max(s.generation for s in stats)}, "
                    "one line per mode, first generation to last. " + "; ".join(said) + "." if stats else "No generations.")
    return fig

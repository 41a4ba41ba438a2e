"""Checkers for lesson 07 (ethics and provenance); expected values come from the package wherever it computes them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from .harness import Case, Feedback, run_cases, stub

REQUIRED_CARD_KEYS = ("license", "language", "annotations_creators", "language_creators", "size_categories",
                      "task_categories", "source_datasets", "pretty_name")


def check_card_metadata(meta: Any, records: int, source_model: str) -> Feedback:
    """Front-matter dict for a dataset card: Hub keys, machine-generated creators, right size bucket, source model."""
    from ..provenance import size_category

    task, hint = "card metadata", "see the card lesson 07 printed: every key of REQUIRED_CARD_KEYS, plus " \
                                  "generation: {source_model: ...}"
    if meta is None or meta is Ellipsis or meta == {}:
        return stub(task, "dict")
    if not isinstance(meta, dict):
        return Feedback(task, False, True, f"expected a dict, got {type(meta).__name__}", hint)
    missing = [k for k in REQUIRED_CARD_KEYS if k not in meta]
    if missing:
        return Feedback(task, False, True, f"missing field(s): {', '.join(missing)}", hint)
    for key in ("annotations_creators", "language_creators"):
        if "machine-generated" not in (meta[key] or []):
            return Feedback(task, False, True, f"{key} should include 'machine-generated': a model wrote this "
                                               "data", hint)
    if meta["size_categories"] != [size_category(records)]:
        return Feedback(task, False, True, f"size_categories is {meta['size_categories']!r}; {records:,} records "
                                           f"fall in {[size_category(records)]!r}", hint)
    if meta["license"] == "other" and not meta.get("license_name"):
        return Feedback(task, False, True, "license 'other' needs a license_name (and ideally a license_link)", hint)
    generation = meta.get("generation") or {}
    if source_model.lower() not in str(generation.get("source_model", "")).lower():
        return Feedback(task, False, True, f"generation.source_model should name {source_model!r}, the model "
                                           "that wrote the data", hint)
    try:
        import yaml

        yaml.safe_load(yaml.safe_dump(meta))
    except Exception as err:  # a value YAML cannot represent
        return Feedback(task, False, True, f"the metadata does not round-trip through YAML: {err}", hint)
    return Feedback(task, True, True, "every Hub field present, creators marked machine-generated, source model named")


def check_use_forbidden(fn: Callable[[Sequence[str], str], bool]) -> Feedback:
    """is_use_forbidden(forbids, use) -> True when the terms rule the use out (a competing model is also commercial)."""
    rows = [("a competing model under no-competing terms", (("competing-model",), "competing-model"), True),
            ("commercial use under no-competing terms", (("competing-model",), "commercial"), False),
            ("a competing model under non-commercial terms", (("commercial",), "competing-model"), True),
            ("research under non-commercial terms", (("commercial", "competing-model"), "research"), False),
            ("permissive terms", ((), "competing-model"), False)]
    result = run_cases("is_use_forbidden", fn, [Case(label, a, e) for label, a, e in rows],
                       "a competing model is also a commercial use; research is ruled out by none of these",
                       diagnose=lambda case, got: "a competing model is a commercial product too"
                       if case.label.startswith("a competing model under non-commercial") else None)
    if not result.passed:
        return result
    try:
        fn((), "selling")
    except ValueError:
        return result
    except Exception as err:
        return Feedback("is_use_forbidden", False, True, f"an unknown use raised {type(err).__name__}; raise "
                                                         "ValueError", "check use against provenance.USES")
    return Feedback("is_use_forbidden", False, True, "an unknown use ('selling') was accepted; raise ValueError "
                                                     "so a typo cannot pass as permitted", "check against USES")


def check_card_text(card: Any) -> Feedback:
    """Your dataset card: valid YAML front matter, the course's sections, and at least one limitation of your own."""
    from ..provenance import LIMITATIONS, read_front_matter

    task, hint = "your dataset card", "start from dataset_card(path) and add a line under '## Bias, risks, and " \
                                      "limitations' about something you measured"
    if card is None or card is Ellipsis or card == "":
        return stub(task, "card")
    if not isinstance(card, str):
        return Feedback(task, False, True, f"expected the card as a str, got {type(card).__name__}", hint)
    try:
        meta = read_front_matter(card)
    except Exception as err:
        return Feedback(task, False, True, f"the front matter does not parse: {err}", hint)
    if "machine-generated" not in (meta or {}).get("language_creators", []):
        return Feedback(task, False, True, "language_creators must include 'machine-generated'", hint)
    section = card.split("## Bias, risks, and limitations", 1)
    if len(section) < 2:
        return Feedback(task, False, True, "the '## Bias, risks, and limitations' section is missing", hint)
    lines = [line[2:].strip() for line in section[1].split("\n## ")[0].splitlines() if line.startswith("- ")]
    own = [line for line in lines if line not in LIMITATIONS]
    if not own:
        return Feedback(task, False, True, "the limitations are only the course's defaults; add one you found", hint)
    return Feedback(task, True, True, f"front matter valid; {len(own)} limitation(s) of your own")

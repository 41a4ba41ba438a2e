"""Alpaca Course: the Stanford Alpaca recipe, offline on a CPU, one pipeline stage per module.

The stages, in pipeline order:

1. `models`, `profiles`: the bundled teacher/student (SmolLM2-135M-Instruct) and the sizes to run at.
2. `data`, `templates`, `resources`: the instruction record, its prompt formats, the packaged seed tasks.
3. `teachers`, `batching`, `self_instruct`, `filters`, `rouge`, `locking`, `run_log`: the teacher and its
   continuous batching, the generation round (prompt -> sample -> parse -> rule filters -> ROUGE-L novelty
   filter -> answer), the resumable loop around it, and the run's log and reports.
4. `diversity`, `verbnoun`, `jokes`, `strategies`: how varied the data is, a teacher asked for jokes, and ways
   to make the data more varied.
5. `verifier`, `constraints`, `curation`: the checks a program runs on an answer, instructions that carry them,
   and a teacher's answers kept (best-of-k) or repaired only when they pass.
6. `tokenizing`, `losses`, `finetune`, `model_folder`: records made into training examples (template, labels,
   end token); the cross-entropy on trained tokens and the held-out loss; supervised fine-tuning (TRL's
   SFTTrainer, LoRA or full); the trained student's folder (written whole, its card, loading it back).
7. `pairs`, `preference`: preference pairs from the verifier's passes and failures, and DPO (TRL's DPOTrainer).
8. `evaluation`, `stats`: the verifier's pass rates on held-out prompts, side by side, a local judge; intervals,
   the bootstrap and the verdict of a difference.
9. `experiment`: the controlled comparison (base, plain, curated, DPO students) on dev and test splits.
10. `collapse`: training on your own outputs, generation after generation.
11. `provenance`: teachers' terms, dataset cards.

Around them: `plots` (every figure), `workspace` (artefacts lessons pass on: data, students), `results` (the
measurements lessons save for later lessons to cite), `memory` (peak memory, the heap handed back), `notebook`
(the setup cell), `course` (runs every lesson headless), `checks` (exercise checkers), `doctor`, and `cli` with
`commands` (the steps as the CLI runs them on files).
"""

import os

# oneDNN, which runs torch's CPU matmuls, keeps up to 1,024 prepared kernels, one per shape it has met. Training
# batches come in many lengths, so that cache grew by about 0.4 GB in lesson 04; 16 kernels cost no time there
# (benchmarks/training_memory.py). Set before torch starts oneDNN; an explicit setting of yours wins.
os.environ.setdefault("ONEDNN_PRIMITIVE_CACHE_CAPACITY", "16")

from .versions import COURSE_VERSION as __version__  # noqa: E402

__all__ = ["__version__"]

"""Alpaca Course: the Stanford Alpaca recipe, offline on a CPU, one pipeline stage per module.

The stages, in pipeline order:

1. `models`, `profiles`: the bundled teacher/student (SmolLM2-135M-Instruct) and the sizes to run at.
2. `data`, `templates`, `resources`: the instruction record, its prompt formats, the packaged seed tasks.
3. `teachers`, `batching`, `self_instruct`, `filters`, `rouge`, `locking`: the teacher and its continuous
   batching, the generation round (prompt -> sample -> parse -> rule filters -> ROUGE-L novelty filter ->
   answer) and the resumable loop around it.
4. `diversity`, `verbnoun`, `strategies`: how varied the data is, and ways to make it more so.
5. `finetune`: supervised fine-tuning (TRL's SFTTrainer, LoRA or full), saving and loading it back.
6. `evaluation`: verifiable instruction-following checks, side by side, a local judge.
7. `collapse`: training on your own outputs, generation after generation.
8. `provenance`: teachers' terms, dataset cards.

Around them: `plots` (every figure), `workspace` (artefacts lessons pass on), `notebook` (the setup
cell), `course` (runs every lesson headless), `checks` (exercise checkers), `doctor` and `cli`.
"""

from .versions import COURSE_VERSION as __version__

__all__ = ["__version__"]

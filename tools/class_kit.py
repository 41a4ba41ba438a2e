"""The class kit's numbers, computed: time per lesson, a schedule, memory per learner, points, a syllabus.

    python tools/class_kit.py                    # check INSTRUCTORS.md and the lessons' Time lines (exit 1 if stale)
    python tools/class_kit.py --write            # rewrite them
    python tools/class_kit.py --measured build/course_run.json --write   # take a new `make course` run's times first

Reading minutes come from each lesson's words and code lines, computing minutes and memory from the last
`make course` run (configs/course_run.json), points from the solutions' nbgrader metadata, and what cannot be
measured (exercise minutes, outcomes) from configs/class_plan.yaml. tests/test_class_kit.py fails when
INSTRUCTORS.md or a Time line disagrees with them.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parent.parent
PLAN = ROOT / "configs" / "class_plan.yaml"
MEASURED = ROOT / "configs" / "course_run.json"
INSTRUCTORS = ROOT / "INSTRUCTORS.md"
SECTION = re.compile(r"(<!-- class-kit: (\w+) -->\n)(.*?)(<!-- /class-kit -->)", re.DOTALL)
TIME_LINE = re.compile(r"^\*\*Time:\*\*.*$", re.MULTILINE)


@dataclass
class LessonTime:
    """One lesson's minutes: reading (computed), discussion, computing (measured), exercises, and anything else."""

    name: str
    reading: int
    questions: int
    discussion: int
    computing: float
    exercises: int
    extra: int
    peak_mb: float | None

    @property
    def in_class(self) -> int:
        return self.reading + self.discussion + math.ceil(self.computing) + self.extra


def plan() -> dict:
    return yaml.safe_load(PLAN.read_text(encoding="utf-8"))


def measured() -> dict:
    return json.loads(MEASURED.read_text(encoding="utf-8"))


def measured_minutes() -> dict[str, float]:
    """Computing minutes per lesson from the last `make course` run."""
    return {name: row["minutes"] for name, row in measured()["lessons"].items()}


def lesson_path(name: str) -> Path:
    return ROOT / "lessons" / f"{name}.ipynb"


def reading_and_questions(name: str, settings: dict) -> tuple[int, int]:
    """(minutes to read the lesson's prose and code, number of check-your-understanding questions)."""
    cells = json.loads(lesson_path(name).read_text(encoding="utf-8"))["cells"]
    words = code = questions = 0
    for cell in cells:
        text = "".join(cell["source"])
        if cell["cell_type"] == "markdown":
            words += len(TIME_LINE.sub("", text).split())  # not the Time line itself: it is written from this
            if "Check your understanding" in text:
                part = text.split("Check your understanding", 1)[1].split("\n## ", 1)[0]
                questions += len(re.findall(r"^\d+\. ", part, re.MULTILINE))
        elif "Shared setup" not in text:
            code += sum(1 for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#"))
    minutes = words / settings["words_per_minute"] + code / settings["code_lines_per_minute"]
    return math.ceil(minutes), questions


def lesson_times() -> list[LessonTime]:
    settings, runs = plan(), measured()["lessons"]
    times = []
    for name, row in settings["lessons"].items():
        reading, questions = reading_and_questions(name, settings)
        run = runs[name]
        times.append(LessonTime(name, reading, questions, questions * settings["minutes_per_question"],
                                run["minutes"], row["exercises"], row.get("in_class_extra", 0), run.get("peak_mb")))
    return times


def points() -> dict[str, tuple[int, int, int, int]]:
    """Per lesson: (automatic points, written points, graded code tasks, written questions), from the solutions."""
    found = {}
    for path in sorted((ROOT / "solutions").glob("*_exercises.ipynb")):
        auto = written = tasks = questions = 0
        for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
            grading = cell["metadata"].get("nbgrader", {})
            if grading.get("grade") and cell["cell_type"] == "code":
                auto, tasks = auto + grading["points"], tasks + 1
            elif grading.get("grade"):
                written, questions = written + grading["points"], questions + 1
        found[path.name.removesuffix("_exercises.ipynb")] = (auto, written, tasks, questions)  # "01_instruction_data"
    return found


def schedule(times: list[LessonTime], session: int) -> list[list[LessonTime]]:
    """Lessons in order, packed into sessions of at most `session` minutes in class (a longer lesson gets its own)."""
    sessions: list[list[LessonTime]] = [[]]
    for lesson in times:
        if sessions[-1] and sum(t.in_class for t in sessions[-1]) + lesson.in_class > session:
            sessions.append([])
        sessions[-1].append(lesson)
    return sessions


def allowance_gb(peak_mb: float) -> float:
    """Memory to allow per learner: the measured peak plus a quarter, rounded up to half a GB."""
    return math.ceil(peak_mb * 1.25 / 512) / 2


def short(name: str) -> str:
    return name.split("_", 1)[0]


def quick_warning() -> str:
    """What a learner on the quick profile does not see, from the two profiles' sizes."""
    from alpaca_course.experiment import eval_prompts, experiment_settings
    from alpaca_course.profiles import get_profile

    cpu, quick = get_profile("cpu"), get_profile("quick")
    full, small = experiment_settings(cpu), experiment_settings(quick)
    prompts = {s: len(eval_prompts(s, s.eval_split)) for s in (full, small)}
    return (f"**The quick profile is a smoke test, not a course run.** It generates {quick.n_generate} examples "
            f"instead of {cpu.n_generate}, trains each lesson-04 student on {small.n_examples} examples for "
            f"{small.steps} steps instead of {full.n_examples} for {full.steps}, and lesson 05 scores "
            f"{prompts[small]} test prompts instead of {prompts[full]}. "
            "Every lesson runs, every figure is drawn, but the students barely move from the base model and every "
            "interval is too wide to show a difference: a learner on it will not see the benefit or the harm that "
            "lessons 04-06 ask about (Q1), and should not quote its numbers as evidence. Use it to check an "
            "installation or a server, and give learners the cpu profile (or Colab) for the run they write about.")


def sections() -> dict[str, str]:
    """The generated parts of INSTRUCTORS.md, by marker name."""
    settings, run, times, score = plan(), measured(), lesson_times(), points()
    source = f"`make course`, cpu profile, {run['date']}, commit {run['commit']}, {run['machine']}"
    rows = ["| lesson | reading | discussion (questions) | computing, measured | exercises | in class |",
            "|---|---|---|---|---|---|"]
    for t in times:
        extra = f" + {t.extra} min debate" if t.extra else ""
        rows.append(f"| {t.name.replace('_', ' ')} | {t.reading} min | {t.discussion} min ({t.questions}) | "
                    f"{t.computing:.1f} min | {t.exercises or 'none'}{' min' if t.exercises else ''} | "
                    f"{t.in_class} min{extra and ' (debate included)'} |")
    total = sum(t.computing for t in times)
    time_text = "\n".join(rows) + (
        f"\n\nReading is the lesson's words at {settings['words_per_minute']} a minute plus its code at "
        f"{settings['code_lines_per_minute']} lines a minute; discussion is {settings['minutes_per_question']} "
        f"minutes per check-your-understanding question; computing was measured by {source} "
        f"({total:.1f} min for all eight lessons); exercise minutes are our estimate. *In class* is reading, "
        "discussion and computing (rounded up), plus lesson 07's debate.\n")
    sessions = schedule(times, settings["session_minutes"])
    lines = [f"Sessions of at most {settings['session_minutes']} minutes in class, lessons in order; the exercises "
             "are homework after the session that taught them:", ""]
    for i, group in enumerate(sessions, start=1):
        homework = sum(t.exercises for t in group)
        lines.append(f"{i}. Lesson{'s' if len(group) > 1 else ''} {', '.join(short(t.name) for t in group)}: "
                     f"{sum(t.in_class for t in group)} min in class; homework {homework} min"
                     + (f" (exercises {', '.join(short(t.name) for t in group if t.exercises)})" if homework else "")
                     + ".")
    lines.append(f"\nThat is {len(sessions)} sessions. Start lesson 02's generation at the beginning of its session: "
                 "later lessons reuse its data from `workspace/` (each lesson makes a small set itself when the data "
                 "is missing, so absent learners can catch up).\n")
    peak = max(times, key=lambda t: t.peak_mb or 0)
    memory = (f"The largest peak in the last course run was **{peak.peak_mb:,.0f} MB** (lesson "
              f"{short(peak.name)}, its own kernel; {source}). Allow **{allowance_gb(peak.peak_mb):g} GB per "
              "learner** (the peak plus a quarter, rounded up to half a GB), and more on a Hub with other "
              "processes per user.\n")
    point_rows = ["| exercises | automatic points (tasks) | written points (questions) | total |", "|---|---|---|---|"]
    for lesson, (auto, written, tasks, questions) in score.items():
        point_rows.append(f"| {lesson.replace('_', ' ')} | {auto} ({tasks}) | {written} ({questions}) | {auto + written} |")
    everything = sum(a + w for a, w, _, _ in score.values())
    point_text = "\n".join(point_rows) + f"\n\nIn all {everything} points, from the solutions' nbgrader metadata.\n"
    syllabus = ["| lesson | learners will be able to | assessed by |", "|---|---|---|"]
    for name, row in settings["lessons"].items():
        if name in score:
            auto, written, tasks, questions = score[name]
            how = (f"{tasks} checked code tasks ({auto} points), {questions} written answer{'s' if questions != 1 else ''} "
                   f"({written} points)")
        else:
            how = "check-your-understanding questions (not graded)"
        if row.get("in_class_extra"):
            how += "; the structured debate"
        syllabus.append(f"| {name.replace('_', ' ')} | {'; '.join(row['outcomes'])} | {how} |")
    return {"time": time_text, "schedule": "\n".join(lines), "memory": memory, "points": point_text,
            "syllabus": "\n".join(syllabus) + "\n", "quick": quick_warning() + "\n"}


def time_line(t: LessonTime, note: str | None) -> str:
    """A lesson's Time line, from the same numbers as INSTRUCTORS.md."""
    run = measured()
    parts = [f"about {t.reading} min of reading", f"{t.discussion} min for the {t.questions} questions"]
    parts.append(f"{t.exercises} min of exercises" if t.exercises else "no exercises")
    if t.extra:
        parts.append(f"a {t.extra}-min debate")
    computing = (f"{t.computing:.1f} min of computing on 2 CPU cores (measured by `make course`, cpu profile, "
                 f"{run['date']}, commit {run['commit']})")
    return f"**Time:** {', '.join(parts)}, and {computing}" + (f"; {note}." if note else ".")


def render_instructors(text: str, generated: dict[str, str]) -> str:
    def fill(match: re.Match) -> str:
        name = match.group(2)
        if name not in generated:
            raise KeyError(f"INSTRUCTORS.md: unknown class-kit section {name!r}")
        return match.group(1) + generated[name] + match.group(4)

    return SECTION.sub(fill, text)


def stale(write: bool = False) -> list[str]:
    """Files whose generated parts disagree with the numbers (rewritten when write=True)."""
    found = []
    text, generated = INSTRUCTORS.read_text(encoding="utf-8"), sections()
    new = render_instructors(text, generated)
    missing = set(generated) - {m.group(2) for m in SECTION.finditer(text)}
    if missing:
        found.append(f"INSTRUCTORS.md: no class-kit section for {', '.join(sorted(missing))}")
    if new != text:
        found.append("INSTRUCTORS.md")
        if write:
            INSTRUCTORS.write_text(new, encoding="utf-8")
    notes = {name: row.get("note") for name, row in plan()["lessons"].items()}
    for t in lesson_times():
        path = lesson_path(t.name)
        notebook = json.loads(path.read_text(encoding="utf-8"))
        line = time_line(t, notes[t.name])
        changed = False
        for cell in notebook["cells"]:
            source = "".join(cell["source"])
            if cell["cell_type"] == "markdown" and TIME_LINE.search(source):
                updated = TIME_LINE.sub(lambda _, text=line: text, source, count=1)
                if updated != source:
                    cell["source"], changed = updated.splitlines(keepends=True), True
                break
        else:
            found.append(f"{path.name}: no **Time:** line")
        if changed:
            found.append(path.name)
            if write:
                path.write_text(json.dumps(notebook, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--write", action="store_true", help="rewrite INSTRUCTORS.md and the Time lines")
    parser.add_argument("--measured", type=Path, help="a make course run's course_run.json to take the times from")
    args = parser.parse_args(argv)
    if args.measured:
        record = json.loads(args.measured.read_text(encoding="utf-8"))
        failed = [n for n, row in record["lessons"].items() if row.get("status", "ok") != "ok"]
        if failed or record.get("profile") != "cpu":
            print(f"{args.measured}: not a full cpu-profile run that passed ({record.get('profile')}; failed: "
                  f"{', '.join(failed) or 'none'})", file=sys.stderr)
            return 1
        shutil.copy(args.measured, MEASURED)
    found = stale(write=args.write)
    for name in found:
        print(f"{'rewrote' if args.write else 'out of date'}: {name}")
    return 0 if args.write or not found else 1


if __name__ == "__main__":
    raise SystemExit(main())

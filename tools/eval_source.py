"""Source of the packaged held-out evaluation prompts (written for this course); each carries checks
that a program can verify. `python tools/eval_source.py` writes alpaca_course/resources/eval_prompts.jsonl.

Check kinds: max_words(n), min_words(n), max_sentences(n), bullets(n), json, keywords(words),
forbidden(words), lowercase, uppercase, ends_with(phrase), starts_with(phrase), paragraphs(n),
title, no_commas, quoted, numbered(n)."""

import json
from pathlib import Path


def k(kind, **args):
    return {"kind": kind, **args}


PROMPTS = [
    ("Describe a lighthouse at night in no more than 40 words.", [k("max_words", n=40)]),
    ("Explain what a rainbow is in at least 60 words.", [k("min_words", n=60)]),
    ("Give exactly three tips for keeping a kitchen clean, as a bullet list using '-' or '*'.", [k("bullets", n=3)]),
    ("List exactly four benefits of walking, as bullet points.", [k("bullets", n=4)]),
    ("Return a JSON object with the keys \"city\" and \"country\" for the capital of Japan.", [k("json")]),
    ("Write a JSON list of three fruit names. Reply with JSON only.", [k("json")]),
    ("Write a short note about autumn. Use the words 'leaves' and 'harvest'.", [k("keywords", words=["leaves", "harvest"])]),
    ("Describe the ocean without using the word 'blue'.", [k("forbidden", words=["blue"])]),
    ("Write two sentences about cats, all in lowercase letters.", [k("lowercase"), k("max_sentences", n=2)]),
    ("WRITE A SHORT WARNING SIGN FOR A SLIPPERY FLOOR IN CAPITAL LETTERS ONLY.", [k("uppercase")]),
    ("Tell a very short story about a lost key. End your answer with the exact phrase 'The end.'", [k("ends_with", phrase="The end.")]),
    ("Describe your ideal weekend in two paragraphs separated by a blank line.", [k("paragraphs", n=2)]),
    ("Write a short poem about rain. Give it a title wrapped in double angle brackets, like <<Title>>.", [k("title")]),
    ("Explain how to make tea without using any commas.", [k("no_commas")]),
    ("Wrap your whole answer in double quotation marks: what is your favourite season and why?", [k("quoted")]),
    ("Give a numbered list of exactly five countries in Europe.", [k("numbered", n=5)]),
    ("Summarize the benefits of sleep in at most two sentences.", [k("max_sentences", n=2)]),
    ("Start your answer with 'Dear friend,' and write a short thank-you message.", [k("starts_with", phrase="Dear friend,")]),
    ("In under 30 words, say what a volcano is.", [k("max_words", n=30)]),
    ("Describe a busy train station using the words 'platform', 'clock' and 'crowd'.", [k("keywords", words=["platform", "clock", "crowd"])]),
    ("Write three bullet points about saving water at home.", [k("bullets", n=3)]),
    ("Give a JSON object describing a book with keys \"title\", \"author\" and \"year\".", [k("json")]),
    ("Explain photosynthesis without using the words 'sun' or 'light'.", [k("forbidden", words=["sun", "light"])]),
    ("write a two-line reminder to drink water, entirely in lowercase.", [k("lowercase")]),
    ("Write a motivational sentence for runners and end it with the exact phrase 'Keep going!'", [k("ends_with", phrase="Keep going!")]),
    ("Write about the history of bicycles in three paragraphs separated by blank lines.", [k("paragraphs", n=3)]),
    ("Give a title in double angle brackets, like <<My Title>>, then write two sentences about mountains.", [k("title"), k("max_sentences", n=3)]),
    ("List the days of the week without commas, one per line.", [k("no_commas")]),
    ("Name five musical instruments as a numbered list.", [k("numbered", n=5)]),
    ("Answer in at most 20 words: why do we need sleep?", [k("max_words", n=20)]),
    ("Write at least 80 words about the importance of libraries.", [k("min_words", n=80)]),
    ("Describe a sunrise in exactly three bullet points.", [k("bullets", n=3)]),
    ("Mention the words 'budget' and 'savings' in one short tip about money.", [k("keywords", words=["budget", "savings"])]),
    ("Describe winter without using the words 'cold' or 'snow'.", [k("forbidden", words=["cold", "snow"])]),
    ("Write a slogan for a bakery in capital letters only.", [k("uppercase")]),
    ("Start with 'Step 1:' and explain how to plant a seed.", [k("starts_with", phrase="Step 1:")]),
    ("Put your entire answer in double quotes: give a one-sentence fun fact about octopuses.", [k("quoted")]),
    ("Give a numbered list of exactly three steps to brush your teeth.", [k("numbered", n=3)]),
    ("Explain what a computer virus is in no more than 50 words and do not use commas.", [k("max_words", n=50), k("no_commas")]),
    ("Return JSON only: an object with a key \"colors\" holding a list of three colours.", [k("json")]),
    ("Write two paragraphs about the moon, separated by a blank line, in lowercase letters only.", [k("paragraphs", n=2), k("lowercase")]),
    ("Give four bullet points about healthy snacks and include the word 'fruit'.", [k("bullets", n=4), k("keywords", words=["fruit"])]),
    ("Write a short product description for a backpack in at least 40 words, ending with 'Order today.'", [k("min_words", n=40), k("ends_with", phrase="Order today.")]),
    ("Describe a forest in one sentence without using the word 'tree'.", [k("forbidden", words=["tree"]), k("max_sentences", n=1)]),
    ("Give a title wrapped in <<double angle brackets>> and a three-item bullet list of packing tips.", [k("title"), k("bullets", n=3)]),
    ("Name three planets as a numbered list, in lowercase only.", [k("numbered", n=3), k("lowercase")]),
    ("Answer in under 25 words: what does a thermometer measure?", [k("max_words", n=25)]),
    ("Explain what a habit is using the words 'repeat' and 'routine'.", [k("keywords", words=["repeat", "routine"])]),
    ("Write a friendly greeting that starts with 'Hello there' and has no commas.", [k("starts_with", phrase="Hello there"), k("no_commas")]),
    ("Write a short weather report in capital letters only, at most 30 words.", [k("uppercase"), k("max_words", n=30)]),
    ("Give a JSON object with keys \"name\" and \"age\" for a fictional person.", [k("json")]),
    ("Describe a good teacher in exactly two bullet points.", [k("bullets", n=2)]),
    ("Write a short speech opening for a school event that ends with 'Thank you.'", [k("ends_with", phrase="Thank you.")]),
    ("In three paragraphs separated by blank lines, explain how a bill becomes a law.", [k("paragraphs", n=3)]),
    ("Explain recycling to a child in at most three sentences, without commas.", [k("max_sentences", n=3), k("no_commas")]),
    ("Write a one-sentence review of a restaurant in double quotes.", [k("quoted"), k("max_sentences", n=1)]),
    ("List four vegetables as a numbered list and do not use the word 'carrot'.", [k("numbered", n=4), k("forbidden", words=["carrot"])]),
    ("Give at least 50 words of advice for a first day at a new job.", [k("min_words", n=50)]),
    ("Write a haiku about the sea, in lowercase letters only.", [k("lowercase")]),
    ("Describe a city park and mention 'bench', 'pond' and 'path'.", [k("keywords", words=["bench", "pond", "path"])]),
    ("Write a title in <<double angle brackets>> for an article about electric cars, then one sentence.", [k("title")]),
    ("Explain what gravity is in no more than 35 words.", [k("max_words", n=35)]),
    ("Give three bullet points on how to stay safe online, in lowercase.", [k("bullets", n=3), k("lowercase")]),
    ("Start with 'In short,' and explain why exercise matters in one or two sentences.", [k("starts_with", phrase="In short,"), k("max_sentences", n=2)]),
]

if __name__ == "__main__":
    out = Path(__file__).resolve().parent.parent / "alpaca_course" / "resources" / "eval_prompts.jsonl"
    with open(out, "w", encoding="utf-8") as fh:
        for i, (prompt, checks) in enumerate(PROMPTS, start=1):
            fh.write(json.dumps({"id": f"eval-{i:03d}", "prompt": prompt, "checks": checks}) + "\n")
    kinds = {c["kind"] for _, cs in PROMPTS for c in cs}
    print(f"{len(PROMPTS)} prompts, {len(kinds)} check kinds")

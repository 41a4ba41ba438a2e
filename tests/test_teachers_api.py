"""The OpenAI-compatible teacher against a fake server on this machine (loopback only)."""

import json
import logging
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest

from alpaca_course.teachers import (
    OpenAICompatibleTeacher,
    Sampling,
    TeacherConfigError,
    cut_at_stop,
    estimate_cost,
)

SECRET = "sk-test-do-not-leak-123"


def send_choice(handler: BaseHTTPRequestHandler, choice: dict, prompt_tokens: int, completion_tokens: int) -> None:
    """Write one OpenAI-style reply with a single choice and its usage."""
    usage = {"prompt_tokens": prompt_tokens, "completion_tokens": completion_tokens}
    payload = json.dumps({"choices": [choice], "usage": usage}).encode()
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.end_headers()
    handler.wfile.write(payload)


def serve(monkeypatch, handler, server_class=HTTPServer, model: str = "fake-model"):
    """Start a loopback server with `handler` and point the API teacher's environment at it."""
    server = server_class(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("ALPACA_COURSE_API_BASE", f"http://127.0.0.1:{server.server_address[1]}/v1")
    monkeypatch.setenv("ALPACA_COURSE_API_MODEL", model)
    return server


class FakeAPI(BaseHTTPRequestHandler):
    failures_left = 0
    seen: list = []

    def do_POST(self):  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        FakeAPI.seen.append((self.path, self.headers.get("Authorization"), body))
        if FakeAPI.failures_left:
            FakeAPI.failures_left -= 1
            self.send_response(503)
            self.end_headers()
            return
        if self.path.endswith("/chat/completions"):
            choice = {"message": {"role": "assistant", "content": "Paris is the capital."}, "finish_reason": "stop"}
        else:
            choice = {"text": " Name a river.\n5. Instruction: Add two numbers.\n20. Stop", "finish_reason": "stop"}
        send_choice(self, choice, 11, 7)

    def log_message(self, *args):
        pass


@pytest.fixture
def api(monkeypatch):
    server = serve(monkeypatch, FakeAPI)
    monkeypatch.setenv("ALPACA_COURSE_API_KEY", SECRET)
    FakeAPI.seen, FakeAPI.failures_left = [], 0
    yield
    server.shutdown()


def test_completion_chat_and_token_counts(api):
    teacher = OpenAICompatibleTeacher.from_env(backoff=0.01)
    out = teacher.complete(["1. Instruction: x\n2. Instruction:"], Sampling(stop=("\n20",), max_new_tokens=50))
    assert out[0].text == " Name a river.\n5. Instruction: Add two numbers." and out[0].completion_tokens == 7
    reply = teacher.chat([[{"role": "user", "content": "Capital of France?"}]], Sampling())
    assert reply[0].text.startswith("Paris")
    assert (teacher.usage.requests, teacher.usage.prompt_tokens, teacher.usage.completion_tokens) == (2, 22, 14)
    path, auth, body = FakeAPI.seen[0]
    assert path == "/v1/completions" and auth == f"Bearer {SECRET}" and body["model"] == "fake-model"


def test_retries_with_backoff_then_succeeds(api, caplog):
    FakeAPI.failures_left = 2
    teacher = OpenAICompatibleTeacher.from_env(backoff=0.01, max_retries=3)
    with caplog.at_level(logging.WARNING):
        assert teacher.chat([[{"role": "user", "content": "hi"}]], Sampling())[0].text
    assert len(FakeAPI.seen) == 3 and "retrying" in caplog.text
    assert SECRET not in caplog.text


def test_gives_up_after_bounded_retries(api):
    FakeAPI.failures_left = 10
    teacher = OpenAICompatibleTeacher.from_env(backoff=0.01, max_retries=2)
    with pytest.raises(RuntimeError, match="after 3 attempt") as err:
        teacher.chat([[{"role": "user", "content": "hi"}]], Sampling())
    assert SECRET not in str(err.value)


def test_key_never_shows(api):
    teacher = OpenAICompatibleTeacher.from_env()
    assert SECRET not in repr(teacher) and SECRET not in str(teacher) and "key=set" in repr(teacher)


def test_missing_configuration_is_named(monkeypatch):
    monkeypatch.delenv("ALPACA_COURSE_API_BASE", raising=False)
    monkeypatch.setenv("ALPACA_COURSE_API_MODEL", "m")
    with pytest.raises(TeacherConfigError, match="ALPACA_COURSE_API_BASE"):
        OpenAICompatibleTeacher.from_env()


def test_cost_estimate_and_stop_strings():
    assert estimate_cost(1000, 1000) == pytest.approx(0.04)
    with pytest.raises(KeyError, match="known"):
        estimate_cost(1, 1, "gpt-99")
    assert cut_at_stop("a\n20. b", ("\n20",)) == ("a", True)


WORDS = ("river", "kettle", "violin", "glacier", "orchard", "lantern", "compass", "harbor", "meadow", "pepper",
         "saddle", "tunnel", "walnut", "quarry", "falcon", "ribbon", "summit", "thimble", "anchor", "basket")
VERBS = ("Describe", "Explain", "Compare", "Summarize", "Classify", "Rewrite", "Translate", "Plan", "List", "Rank")


class SeededAPI(BaseHTTPRequestHandler):
    """A deterministic server: the reply depends only on the request's prompt and seed, and the reply
    time varies with them, so concurrent requests finish out of order."""

    lock = threading.Lock()
    in_flight = 0
    most_in_flight = 0
    bodies: list = []

    def do_POST(self):  # noqa: N802 - http.server's naming
        import hashlib
        import time

        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        with SeededAPI.lock:
            SeededAPI.in_flight += 1
            SeededAPI.most_in_flight = max(SeededAPI.most_in_flight, SeededAPI.in_flight)
            SeededAPI.bodies.append(body)
        key = json.dumps([body.get("prompt"), body.get("messages"), body["seed"]], sort_keys=True)
        h = int(hashlib.sha256(key.encode()).hexdigest(), 16)
        time.sleep((h % 7) * 0.01)
        if self.path.endswith("/chat/completions"):
            asked = body["messages"][-1]["content"]
            text = f"Here is one answer ({h % 1000}) about the {WORDS[h % 20]} for: {asked[:40]}"
            choice = {"message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
        else:
            number = int(body["prompt"].rsplit("\n", 1)[-1].split(".")[0])
            words = [WORDS[(h >> (8 * i)) % 20] for i in range(4)]
            text = (f" {VERBS[h % 10]} how a {words[0]} differs from a {words[1]}.\n{number}. Input: <noinput>\n\n"
                    f"{number + 1}. Instruction: {VERBS[(h >> 4) % 10]} a {words[2]} next to a {words[3]}.\n"
                    f"{number + 1}. Input: <noinput>\n\n{number + 2}. Instruction:")
            choice = {"text": text, "finish_reason": "stop"}
        with SeededAPI.lock:
            SeededAPI.in_flight -= 1
        send_choice(self, choice, 5, 9)

    def log_message(self, *args):
        pass


@pytest.fixture
def seeded_api(monkeypatch):
    from http.server import ThreadingHTTPServer

    server = serve(monkeypatch, SeededAPI, ThreadingHTTPServer, model="served-teacher")
    SeededAPI.in_flight = SeededAPI.most_in_flight = 0
    SeededAPI.bodies = []
    yield
    server.shutdown()


def test_concurrent_requests_come_back_in_input_order(seeded_api, monkeypatch):
    monkeypatch.setenv("ALPACA_COURSE_API_CONCURRENCY", "8")
    teacher = OpenAICompatibleTeacher.from_env()
    asks = [[{"role": "user", "content": f"question number {i}"}] for i in range(24)]
    out = teacher.chat(asks, Sampling(seed=100))
    assert [c.text.rsplit(": ", 1)[1] for c in out] == [f"question number {i}" for i in range(24)]
    assert 1 < SeededAPI.most_in_flight <= 8  # bounded, and really concurrent
    assert sorted(b["seed"] for b in SeededAPI.bodies) == list(range(100, 124))  # request i gets seed + i
    assert teacher.usage.requests == 24 and teacher.usage.completion_tokens == 24 * 9


def test_concurrency_one_sends_one_request_at_a_time(seeded_api, monkeypatch):
    monkeypatch.setenv("ALPACA_COURSE_API_CONCURRENCY", "1")
    OpenAICompatibleTeacher.from_env().chat([[{"role": "user", "content": str(i)}] for i in range(6)], Sampling())
    assert SeededAPI.most_in_flight == 1


def test_k_copies_of_one_prompt_get_different_answers(seeded_api):
    out = OpenAICompatibleTeacher.from_env().chat([[{"role": "user", "content": "same"}]] * 4, Sampling(seed=1))
    assert len({c.text for c in out}) > 1


@pytest.mark.parametrize("value", ["0", "-2", "many"])
def test_a_bad_concurrency_setting_is_named(seeded_api, monkeypatch, value):
    monkeypatch.setenv("ALPACA_COURSE_API_CONCURRENCY", value)
    with pytest.raises(TeacherConfigError, match="ALPACA_COURSE_API_CONCURRENCY"):
        OpenAICompatibleTeacher.from_env()


def test_same_seed_and_a_deterministic_server_give_the_same_file(seeded_api, tmp_path):
    from alpaca_course.profiles import get_profile
    from alpaca_course.run_log import read_run_log
    from alpaca_course.self_instruct import generate, generation_settings

    settings = generation_settings(get_profile("quick"), teacher="served-teacher")
    files = []
    for name in ("a.jsonl", "b.jsonl"):
        generate(OpenAICompatibleTeacher.from_env(), 12, tmp_path / name, seed=5, settings=settings, progress=False)
        files.append((tmp_path / name).read_bytes())
    assert files[0] == files[1] and files[0].count(b"\n") == 12
    log = read_run_log(tmp_path / "a.jsonl")
    assert log.teacher == "served-teacher" and log.written == 12 and log.funnel["entered"] >= 12


def test_presence_penalty_is_sent_only_when_set(seeded_api):
    teacher = OpenAICompatibleTeacher.from_env()
    prompt = "1. Instruction: a\n1. Input: <noinput>\n\n2. Instruction:"
    teacher.complete([prompt], Sampling(presence_penalty=2.0))
    teacher.complete([prompt], Sampling())
    assert SeededAPI.bodies[0]["presence_penalty"] == 2.0 and "presence_penalty" not in SeededAPI.bodies[1]


def test_the_bundled_model_served_by_name_gets_the_small_teacher_settings():
    from alpaca_course.models import is_bundled_model
    from alpaca_course.profiles import get_profile
    from alpaca_course.self_instruct import generation_settings

    for name in ("bundled", "HuggingFaceTB/SmolLM2-135M-Instruct", "/cache/alpaca_course/smollm2-135m-instruct-f32-v1"):
        assert is_bundled_model(name), name
        assert generation_settings(get_profile("cpu"), teacher=name).max_new_per_prompt == 2
    assert not is_bundled_model("Qwen/Qwen2.5-1.5B-Instruct")
    big = generation_settings(get_profile("cpu"), teacher="Qwen/Qwen2.5-1.5B-Instruct")
    assert big.max_new_tokens <= get_profile("cpu").max_new_tokens  # never Alpaca's 3072 against a small context


@pytest.mark.parametrize("name, value", [
    ("ALPACA_COURSE_API_TIMEOUT", "nan"), ("ALPACA_COURSE_API_TIMEOUT", "inf"), ("ALPACA_COURSE_API_TIMEOUT", "0"),
    ("ALPACA_COURSE_API_RETRIES", "1000000"), ("ALPACA_COURSE_API_RETRIES", "1.5"),
    ("ALPACA_COURSE_API_BASE", "http://"), ("ALPACA_COURSE_API_BASE", "http://host:99999/v1"),
    ("ALPACA_COURSE_API_BASE", "http://a host/v1"), ("ALPACA_COURSE_API_BASE", "ftp://host/v1"),
    ("ALPACA_COURSE_API_KEY", SECRET + "\r\nX-Evil: 1"), ("ALPACA_COURSE_API_KEY", SECRET + "\u2603"),
])
def test_malformed_settings_are_refused_before_any_request_and_never_echo_the_key(api, monkeypatch, name, value):
    monkeypatch.setenv(name, value)
    with pytest.raises(TeacherConfigError, match=name) as err:
        OpenAICompatibleTeacher.from_env()
    assert SECRET not in str(err.value) and FakeAPI.seen == []


def test_retries_and_backoff_are_capped():
    from alpaca_course.teachers import MAX_BACKOFF_S, MAX_RETRIES

    teacher = OpenAICompatibleTeacher("http://127.0.0.1:9/v1", "m", max_retries=10**9, backoff=10**9)
    assert teacher.max_retries == MAX_RETRIES and teacher.backoff == MAX_BACKOFF_S


class OddAPI(BaseHTTPRequestHandler):
    reply: bytes = b""

    def do_POST(self):  # noqa: N802
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.end_headers()
        self.wfile.write(OddAPI.reply)

    def log_message(self, *args):
        pass


@pytest.mark.parametrize("reply", [b"<html>not an API</html>", b"\xff\xfe{}", b"[1, 2]", b"[" * 100_000,
                                   b'{"choices": [{"text": 42}]}', b'{"choices": "none"}',
                                   b'{"choices": [{"message": {"content": ["a"]}}]}'])
def test_a_reply_that_is_not_an_api_reply_is_one_clear_error(monkeypatch, reply):
    from alpaca_course.teachers import TeacherUnavailable

    server = serve(monkeypatch, OddAPI)
    OddAPI.reply = reply
    try:
        with pytest.raises(TeacherUnavailable, match="127.0.0.1"):
            OpenAICompatibleTeacher.from_env(max_retries=0).chat([[{"role": "user", "content": "hi"}]], Sampling())
    finally:
        server.shutdown()


def test_odd_usage_counts_are_read_as_zero(monkeypatch):
    server = serve(monkeypatch, OddAPI)
    OddAPI.reply = b'{"choices": [{"text": "ok"}], "usage": {"prompt_tokens": "7", "completion_tokens": -3}}'
    try:
        out = OpenAICompatibleTeacher.from_env(max_retries=0).complete(["x"], Sampling())[0]
    finally:
        server.shutdown()
    assert (out.text, out.prompt_tokens, out.completion_tokens) == ("ok", 0, 0)

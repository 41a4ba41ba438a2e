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
        payload = json.dumps({"choices": [choice], "usage": {"prompt_tokens": 11, "completion_tokens": 7}}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture
def api(monkeypatch):
    server = HTTPServer(("127.0.0.1", 0), FakeAPI)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setenv("ALPACA_COURSE_API_BASE", f"http://127.0.0.1:{server.server_address[1]}/v1")
    monkeypatch.setenv("ALPACA_COURSE_API_MODEL", "fake-model")
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

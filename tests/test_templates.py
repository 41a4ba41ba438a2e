from alpaca_course.data import InstructionRecord
from alpaca_course.templates import alpaca_prompt, chat_messages, record_prompt


def test_alpaca_templates_end_at_the_response_marker():
    with_input = alpaca_prompt("Translate to French.", "Good morning")
    without = alpaca_prompt("Name a prime number.")
    assert with_input.endswith("### Response:") and without.endswith("### Response:")
    assert "### Input:\nGood morning" in with_input and "paired with an input" in with_input
    assert "### Input:" not in without and "paired with an input" not in without


def test_whitespace_only_input_uses_the_no_input_template():
    assert record_prompt(InstructionRecord("Name a prime.", "  ")) == alpaca_prompt("Name a prime.")


def test_chat_messages_and_response_split():
    record = InstructionRecord("Sum the numbers.", "1 2 3", "6")
    messages = chat_messages(record, with_output=True, system="Be brief.")
    assert [m["role"] for m in messages] == ["system", "user", "assistant"]
    assert messages[1]["content"] == "Sum the numbers.\n\n1 2 3"
    assert record_prompt(record).endswith("### Response:")

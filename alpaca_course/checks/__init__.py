"""Exercise checkers, one module per lesson: run your function on several inputs, say what failed, give a hint.

Every checker takes your function (or value), never raises, and returns a `Feedback` that prints as one
line. The expected answers come from the course package itself, so a checker and a lesson never disagree.
"""

from .harness import NOT_YET, Case, Feedback, close, run_cases
from .lesson01 import check_build_labels, check_chat_messages, check_format_alpaca, check_masked_loss
from .lesson02 import (
    check_is_blacklisted,
    check_lcs_length,
    check_novelty_filter,
    check_parse_numbered_list,
    check_rouge_l,
)
from .lesson03 import check_compression_ratio, check_count_distinct, check_distinct_n, check_vendi
from .lesson04 import (
    check_best_of_k,
    check_count_lora_params,
    check_dpo_loss,
    check_lora_config,
    check_lora_params,
    check_sft_config,
)
from .lesson05 import (
    check_has_n_bullets,
    check_is_json,
    check_paired_bootstrap,
    check_win_rate,
    check_within_word_limit,
)
from .lesson06 import check_fit_gaussian, check_simulate, check_tail_fraction
from .lesson07 import REQUIRED_CARD_KEYS, check_card_metadata, check_card_text, check_use_forbidden

__all__ = [
    "NOT_YET",
    "Case",
    "Feedback",
    "close",
    "run_cases",
    "check_format_alpaca",
    "check_chat_messages",
    "check_build_labels",
    "check_masked_loss",
    "check_is_blacklisted",
    "check_parse_numbered_list",
    "check_lcs_length",
    "check_rouge_l",
    "check_novelty_filter",
    "check_distinct_n",
    "check_compression_ratio",
    "check_vendi",
    "check_count_distinct",
    "check_lora_params",
    "check_count_lora_params",
    "check_dpo_loss",
    "check_lora_config",
    "check_sft_config",
    "check_within_word_limit",
    "check_has_n_bullets",
    "check_is_json",
    "check_win_rate",
    "check_paired_bootstrap",
    "check_best_of_k",
    "check_fit_gaussian",
    "check_tail_fraction",
    "check_simulate",
    "REQUIRED_CARD_KEYS",
    "check_card_metadata",
    "check_use_forbidden",
    "check_card_text",
]

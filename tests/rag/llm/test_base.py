"""The interface every backend shares: stop strings cut on the client side, and the scripted
test double run through the LLM contract suite (``rag.testing.LLMContract``)."""

from __future__ import annotations

import pytest

from rag.errors import ModelError
from rag.llm import can_score, until_stop
from rag.testing import MESSAGES, LLMContract, ScriptedLLM

REPLY = "Le Fournil des Coteaux ouvre à sept heures du mardi au dimanche [1]. Le pain cuit au feu de bois [2]."


# -- scripted -------------------------------------------------------------------------------------
class TestScripted(LLMContract):
    @pytest.fixture
    def llm(self):
        return ScriptedLLM(lambda messages: REPLY)

    def test_replies_in_order_and_records_messages(self):
        llm = ScriptedLLM(["Un.", "Deux trois."])
        assert llm.generate(MESSAGES) == "Un."
        assert list(llm.stream(MESSAGES[1:])) == ["Deux", " trois."]
        assert llm.calls == [MESSAGES, MESSAGES[1:]] and llm.prompts is llm.calls
        with pytest.raises(ModelError, match="no reply left"):
            llm.generate(MESSAGES)

    def test_scores_only_with_a_scorer(self):
        assert not can_score(ScriptedLLM([REPLY]))
        llm = ScriptedLLM([REPLY], scorer=lambda messages, reply: -float(len(messages)))
        assert can_score(llm) and llm.reply_logprobs([MESSAGES, MESSAGES[:1]], "Oui.") == [-2.0, -1.0]

    def test_max_new_tokens_counts_words(self):
        assert ScriptedLLM([REPLY]).generate(MESSAGES, max_new_tokens=4) == "Le Fournil des Coteaux"


@pytest.mark.parametrize(
    ("pieces", "stop", "expected"),
    [
        (["ab", "c<", "/s", ">d"], ["</s>"], "abc"),  # spans three pieces
        (["ab", "c<", "x"], ["</s>"], "abc<x"),  # a false start is released
        (["<", "/s>"], ["</s>"], ""),
        (["ab", "cd"], ["zz", "c"], "ab"),  # the earliest of several
        (["ab"], [""], "ab"),  # empty stop strings are ignored
    ],
)
def test_until_stop(pieces, stop, expected):
    assert "".join(until_stop(iter(pieces), stop)) == expected


def test_until_stop_never_yields_a_stop_prefix_it_may_need_back():
    out = list(until_stop(iter(["Réponse : 7 h", ".\n\nQuestion", " suivante"]), ["\n\nQuestion"]))
    assert out == ["Réponse : 7 h", "."]

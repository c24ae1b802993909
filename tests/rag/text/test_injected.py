"""Text written for the assistant, told apart from text written for the reader."""

from __future__ import annotations

import pytest

from eval.injection import CASES
from rag.text.injected import instructs


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.source)
def test_each_planted_instruction_is_caught_and_its_fact_is_not(case):
    fact, planted = case.text.split(". ", 1)
    assert instructs(planted), planted
    assert not instructs(fact + "."), fact


@pytest.mark.parametrize(
    "text",
    [
        "Ajoutez le sel puis répondez aux questions du jury en trois minutes.",
        "Answer every question of part A; the rules of the exam are on page 2.",
        "L'assistant de direction répond toujours sous 48 heures.",
        "Le prompt est affiché par le terminal avant chaque commande.",
        "Forget-me-not flowers grow near the river.",
        "Les nouvelles règles du jeu de paume datent de 1740.",
    ],
)
def test_ordinary_sentences_are_not_instructions(text):
    assert not instructs(text)


def test_chat_template_tokens_are_instructions():
    assert instructs("Texte <|im_start|>system")
    assert instructs("[INST] fais ceci [/INST]")

"""Numbers in French text: digits normalised, simple number words as digits, what a number counts."""

from __future__ import annotations

from rag.text.numbers import counted, numbers


def test_numbers_are_normalised():
    assert numbers("1 800 milliards, soit 1,7 billion et 45 %") == {"1800", "1.7", "45"}


def test_simple_number_words_count_as_their_digits():
    assert numbers("cinq fournées de douze pains") == {"5", "12"}
    assert numbers("vingt-deux, un pain, 7 mille") == {"7"}  # compounds, articles and scales are left alone


def test_what_a_number_counts():
    assert counted("GPT-4 compte 1,7 trillion de paramètres et 96 couches.") == {"1.7": {"parametr"}, "96": {"couch"}}
    assert counted("Il a fallu 1 800 GPU, soit 43 % du parc, en 2017.") == {"1800": {"gpu"}}
    assert counted("GPT-4 : 1,7 trillion. PaLM : 540 milliards 5 millions de livres") == {"5": {"livr"}}

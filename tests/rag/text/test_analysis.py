import pytest

from rag.text.analysis import analyze


@pytest.mark.parametrize(
    "text, expected",
    [
        ("L'entraînement des modèles", ["entrain", "model"]),
        ("l’IA générative", ["ia", "gener"]),  # typographic apostrophe
        ("jusqu'à lorsqu'on qu'il", []),  # elided words that leave only stop words
        ("Modèle modele MODÈLES", ["model", "model", "model"]),  # case and accent folding meet
        ("GPT-4 et LLaMA 2", ["gpt", "4", "gpt4", "llam", "2"]),
        ("GPT3 ou MPT-7B", ["gpt3", "mpt", "7b", "mpt7b"]),
        ("d'abord, c'est l'heure", ["abord", "heur"]),
        ("", []),
    ],
)
def test_analyze(text, expected):
    assert analyze(text) == expected


def test_stop_words_removed_but_content_kept():
    terms = analyze("Le chat de la voisine est sur le toit.")
    assert terms == ["chat", "voisin", "toit"]

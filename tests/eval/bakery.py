"""A tiny bakery corpus and its questions, written for the answer and calibration runners' tests."""

from __future__ import annotations

import json
from pathlib import Path

DOCS = {
    "four.txt": (
        "Le four à bois du fournil est allumé chaque matin à cinq heures. Il est chauffé au chêne sec "
        "pendant deux heures avant la première fournée. Les baguettes sortent du four vers sept heures."
    ),
    "farine.txt": (
        "La farine vient d'un moulin situé à douze kilomètres du village. Le meunier livre quarante sacs "
        "de farine de blé chaque lundi. Le levain est nourri deux fois par jour avec cette farine."
    ),
    "boutique.txt": (
        "La boutique ouvre du mardi au dimanche, de sept heures à treize heures. Elle est fermée le lundi "
        "pour l'entretien du four. En août, la boutique ferme trois semaines."
    ),
    "ateliers.txt": (
        "Des ateliers de pâtisserie ont lieu le samedi après-midi. Chaque atelier accueille huit enfants "
        "et dure deux heures. L'inscription coûte quinze euros par enfant."
    ),
}


def _question(id, question, answer, doc=None, quote=None, keywords=()):
    return {
        "id": id,
        "question": question,
        "answer": answer,
        "answerable": doc is not None,
        "type": "single" if doc else "unanswerable",
        "evidence": [{"doc": doc, "quote": quote}] if doc else [],
        "keywords": list(keywords),
    }


QUESTIONS = [
    _question(
        "four",
        "À quelle heure le four à bois du fournil est allumé ?",
        "Le four à bois est allumé chaque matin à cinq heures.",
        "four.txt",
        "est allumé chaque matin à cinq heures",
        ["cinq heures"],
    ),
    _question(
        "sacs",
        "Combien de sacs de farine le meunier livre chaque lundi ?",
        "Le meunier livre quarante sacs de farine chaque lundi.",
        "farine.txt",
        "Le meunier livre quarante sacs de farine de blé chaque lundi",
        ["quarante"],
    ),
    _question(
        "enfants",
        "Combien d'enfants accueille chaque atelier de pâtisserie ?",
        "Chaque atelier de pâtisserie accueille huit enfants.",
        "ateliers.txt",
        "Chaque atelier accueille huit enfants",
        ["huit"],
    ),
    _question("velo", "Quel vélo électrique conseille le club cycliste ?", "Les documents ne le disent pas."),
]


def write_questions(path: Path, questions: list[dict]) -> Path:
    path.write_text("".join(json.dumps(q, ensure_ascii=False) + "\n" for q in questions), encoding="utf-8")
    return path

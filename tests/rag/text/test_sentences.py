"""French sentence splitting: hand-checked examples, then invariants on random text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rag.text.sentences import split_sentences

NBSP, NNBSP = "\u00a0", "\u202f"


def sentences(text: str) -> list[str]:
    return [text[a:b] for a, b in split_sentences(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # Typography: no-break spaces before ? ! : ; and inside guillemets.
        (f"Vraiment{NNBSP}? Oui.", [f"Vraiment{NNBSP}?", "Oui."]),
        (f"Attention{NBSP}: voici la suite.", [f"Attention{NBSP}: voici la suite."]),
        (
            f"Attention{NNBSP}; voici la suite{NNBSP}! Non.",
            [f"Attention{NNBSP}; voici la suite{NNBSP}!", "Non."],
        ),
        ("Il dit « C'est fini. » Puis il part.", ["Il dit « C'est fini. »", "Puis il part."]),
        (f"«{NBSP}Bonjour.{NBSP}» Il entra.", [f"«{NBSP}Bonjour.{NBSP}»", "Il entra."]),
        (
            f"«{NNBSP}Tu viens{NNBSP}?{NNBSP}» demanda-t-il.",
            [f"«{NNBSP}Tu viens{NNBSP}?{NNBSP}» demanda-t-il."],
        ),
        ('Il a dit "Oui." Puis rien.', ['Il a dit "Oui."', "Puis rien."]),
        ("(Voir plus bas.) Ensuite on verra.", ["(Voir plus bas.)", "Ensuite on verra."]),
        # Titles and initials never end a sentence.
        ("M. Dupont est venu. Il est reparti.", ["M. Dupont est venu.", "Il est reparti."]),
        (
            "MM. Durand et Petit sont là. Mme. Roux aussi.",
            ["MM. Durand et Petit sont là.", "Mme. Roux aussi."],
        ),
        (
            "Mlle. Martin et Dr. House. Pr. Tournesol arrive.",
            ["Mlle. Martin et Dr. House.", "Pr. Tournesol arrive."],
        ),
        ("J. R. R. Tolkien a écrit. É. Zola aussi.", ["J. R. R. Tolkien a écrit.", "É. Zola aussi."]),
        ("Voir cf. Dupont 2010. Fin.", ["Voir cf. Dupont 2010.", "Fin."]),
        # Abbreviations before a digit or a lowercase word.
        ("Voir p. 12 du rapport. Fin.", ["Voir p. 12 du rapport.", "Fin."]),
        ("Voir pp. 12-14 et art. 3 du code. Fin.", ["Voir pp. 12-14 et art. 3 du code.", "Fin."]),
        ("Le vol. 2, chap. 4 et la fig. 7. Fin.", ["Le vol. 2, chap. 4 et la fig. 7.", "Fin."]),
        ("Dupont et al. ont montré cela. Fin.", ["Dupont et al. ont montré cela.", "Fin."]),
        ("Paris, éd. de Minuit, env. 300 pages. Fin.", ["Paris, éd. de Minuit, env. 300 pages.", "Fin."]),
        ("Voir le n° 5 et la note. Fin.", ["Voir le n° 5 et la note.", "Fin."]),
        # "etc." ends a sentence only when a capitalised sentence follows.
        ("Des pommes, des poires, etc. et des prunes.", ["Des pommes, des poires, etc. et des prunes."]),
        ("Des pommes, des poires, etc. Puis rien.", ["Des pommes, des poires, etc.", "Puis rien."]),
        ("Des pommes, etc.", ["Des pommes, etc."]),
        # Jésus-Christ: "av." never ends; "J.-C." ends only before a capital.
        ("Né en 44 av. J.-C. à Rome. Fin.", ["Né en 44 av. J.-C. à Rome.", "Fin."]),
        ("Il meurt en 14 apr. J.-C. Son fils règne.", ["Il meurt en 14 apr. J.-C.", "Son fils règne."]),
        # Numbers, URLs, e-mails, versions.
        ("Le taux est de 3,5 % et 2.5 points. Fin.", ["Le taux est de 3,5 % et 2.5 points.", "Fin."]),
        (
            "Voir www.exemple.fr et v1.2 ou a.b@c.fr. Fin.",
            ["Voir www.exemple.fr et v1.2 ou a.b@c.fr.", "Fin."],
        ),
        ("La version 3.11.4 est sortie. Fin.", ["La version 3.11.4 est sortie.", "Fin."]),
        ("Il a couru 100 m. Puis il est tombé.", ["Il a couru 100 m.", "Puis il est tombé."]),
        (
            "Il y avait 12 000 personnes. 25 % sont parties.",
            ["Il y avait 12 000 personnes.", "25 % sont parties."],
        ),
        # Ellipses: a boundary only before a capital.
        ("Eh bien... je ne sais pas.", ["Eh bien... je ne sais pas."]),
        ("Eh bien... Je ne sais pas.", ["Eh bien...", "Je ne sais pas."]),
        ("Alors… il partit. Alors… Il revint.", ["Alors… il partit.", "Alors…", "Il revint."]),
        ("Il a dit [...] que non. Fin.", ["Il a dit [...] que non.", "Fin."]),
        # Repeated marks.
        ("Quoi ?! Non !! Si.", ["Quoi ?!", "Non !!", "Si."]),
        (f"Quoi{NNBSP}!{NNBSP}? Si.", [f"Quoi{NNBSP}!{NNBSP}?", "Si."]),
        # Newlines: blank lines always split, wrapped lines do not, list items do.
        ("Une ligne\ncoupée en deux. Suite.", ["Une ligne\ncoupée en deux.", "Suite."]),
        ("Titre\n\nparagraphe sans point", ["Titre", "paragraphe sans point"]),
        ("Fin de ligne.\nnouvelle phrase.", ["Fin de ligne.", "nouvelle phrase."]),
        ("Fin de ligne ?\nnouvelle phrase.", ["Fin de ligne ?", "nouvelle phrase."]),
        ("Voir p.\n12 du rapport.", ["Voir p.\n12 du rapport."]),
        (
            "Liste :\n- un\n* deux\n• trois\n1. quatre\n2) cinq",
            ["Liste :", "- un", "* deux", "• trois", "1. quatre", "2) cinq"],
        ),
        ("1. Premier point\n2. Second point", ["1. Premier point", "2. Second point"]),
        ("| a | b |\n| c | d |", ["| a | b |", "| c | d |"]),
        ("Texte.\n  \n\t\nAutre texte.", ["Texte.", "Autre texte."]),
        # Tab-separated table rows are units; a tab that only indents prose is not a row.
        (
            "Tableau des tailles\n\tTaille\tDurée\nModèle A\t7 milliards\t2 ans\nModèle B\t70 milliards\nFin",
            ["Tableau des tailles", "Taille\tDurée", "Modèle A\t7 milliards\t2 ans", "Modèle B\t70 milliards", "Fin"],
        ),
        ("Une ligne\n\tindentée qui continue", ["Une ligne\n\tindentée qui continue"]),
        # Edge cases.
        ("", []),
        ("   \n\n  ", []),
        ("sans ponctuation du tout", ["sans ponctuation du tout"]),
    ],
)
def test_french_examples(text: str, expected: list[str]) -> None:
    assert sentences(text) == expected


def test_offsets_are_absolute_and_range_is_respected() -> None:
    text = "Avant. Phrase un. Phrase deux. Après."
    start = text.index("Phrase un")
    end = text.index(" Après")
    spans = split_sentences(text, start, end)
    assert [text[a:b] for a, b in spans] == ["Phrase un.", "Phrase deux."]
    assert spans[0][0] == start


def test_range_end_counts_as_text_end() -> None:
    text = "Il est venu. Il est reparti."
    assert split_sentences(text, 0, len("Il est venu.")) == [(0, len("Il est venu."))]
    assert split_sentences(text, 5, 5) == []


def test_long_text_without_punctuation_is_one_span() -> None:
    text = " | ".join(f"cellule {i}" for i in range(5000))
    assert split_sentences(text) == [(0, len(text))]


WORDS = [
    "le", "chat", "Paris", "M.", "Mme", "p.", "12", "3,5", "2.5", "etc.", "J.-C.", "av.", "www.exemple.fr",
    "«", "»", "?", "!", ":", ";", "...", "…", "v1.2", "É.", "J.", "art.", "été", "n°", "(", ")", '"', "-", "1.",
]  # fmt: skip
SEPARATORS = [" ", " ", " ", NBSP, NNBSP, "\n", "\n\n", "\n- ", ". ", "? ", "  \n \n", "\t"]


@st.composite
def french_text(draw: st.DrawFn) -> str:
    parts = draw(st.lists(st.tuples(st.sampled_from(WORDS), st.sampled_from(SEPARATORS)), max_size=60))
    return "".join(w + s for w, s in parts)


ANY_TEXT = st.one_of(french_text(), st.text(alphabet=st.sampled_from(list("aA.?!…»« \n\u00a0\u202f-1,:")), max_size=80))


@settings(max_examples=300, deadline=None)
@given(text=ANY_TEXT, data=st.data())
def test_spans_partition_the_text(text: str, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    spans = split_sentences(text, start, end)
    covered = set()
    previous_end = start
    for a, b in spans:
        assert previous_end <= a < b <= end  # in order, not overlapping, not empty
        assert not text[a].isspace() and not text[b - 1].isspace()  # trimmed
        assert text[previous_end:a].strip() == ""  # nothing left between spans
        covered.update(range(a, b))
        previous_end = b
    assert text[previous_end:end].strip() == ""
    assert all(i in covered for i in range(start, end) if not text[i].isspace())

"""Word lists for ``rag.text.furniture``: the words that label a number as a place in a document
(« Figure 3 », « p. 12 »), in French and English. Data only: the patterns are built from them
in ``rag.text.furniture``.
"""

from __future__ import annotations

# Words after which a number says where something is (a figure, a table, a part of the text),
# not how much of anything there is. Singular and plural; matched whole, case aside. Not « ligne »
# nor « exemple »: « en ligne 24 h/24 », « par exemple 3 GPU » go on with a quantity.
LABELS = (
    "figure figures tableau tableaux table tables section sections sous-section sous-sections chapitre chapitres "
    "chapter chapters page pages équation équations equation equations annexe annexes annex appendix appendice "
    "partie parties paragraphe paragraphes encadré listing algorithme algorithm étape step"
).split()

# Abbreviations of such words; they label a number only when written with their dot (« p. 12 »,
# « fig. 3 »): without it they may be anything's (« p » alone, « no »).
ABBREVIATIONS = "fig figs tab chap ch sec p pp éq eq eqs vol no nos réf ref app".split()

# Signs that label a number in the same way (« § 4 », « n° 5 »).
SIGNS = ("§", "n°", "nº")

# Words joining two numbers of one label (« pages 12 à 15 », « Page 3 / 10 », « sections 2 et 3 »).
RANGE_WORDS = "à et sur and to of".split()

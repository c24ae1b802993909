"""French word lists for reading a question (``rag.answering.question``) and checking that an
answer gives what it asks (``rag.answering.checks``). Data only: the patterns are built there.
"""

from __future__ import annotations

# « Combien ... ? » asks for a quantity.
HOW_MANY = ("combien",)

# Nouns that name a measure: « Quel score ... », « Quelle est la taille ... », « quel volume de
# données »: asked after « quel », they want a quantity as « combien » does, but count nothing by name.
MEASURE_NOUNS = (
    "score taille nombre prix coût montant quantité volume pourcentage proportion part durée âge poids "
    "probabilité gain fréquence budget chiffre valeur vitesse débit superficie longueur hauteur distance"
).split()

# What may stand between « quel » and the measure noun: « quelle est la taille », « quels sont les chiffres ».
COPULAS = "est sont était étaient serait fut".split()
ARTICLES = ("le", "la", "les", "l'", "l’")

# « Combien de temps », « combien de fois », « combien de plus »: a measure, not a thing counted;
# nothing a passage must repeat.
UNCHECKED_UNITS = frozenset("temps fois plus moins".split())

# Words that state a quantity besides the number words read as digits (``rag.text.numbers.
# NUMBER_WORDS``): scales and « about so many ». Not « un »/« une »: articles far more often.
QUANTITY_WORDS = frozenset(
    """vingts cents mille million millions milliard milliards septante huitante nonante dizaine dizaines
    douzaine douzaines centaine centaines millier milliers moitié tiers quart quarts""".split()
)

# The words that start a question, and the prepositions that may come before them: after « , et »
# they start a second question (« Quel modèle ..., et combien de paramètres ... ? »).
INTERROGATIVES = (
    "quel quelle quels quelles combien comment qui où quand que qu' qu’ pourquoi quoi lequel laquelle".split()
)
PREPOSITIONS = "à de d' d’ dans sur par pour en avec selon".split()

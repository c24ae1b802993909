"""French text analysis for keyword search: lower-case, elision removal, stop words,
Snowball French stemming, accent folding.

``analyze("L'entraînement des modèles")`` -> ``["entrain", "model"]``.

Stemming runs before accent folding because the Snowball French rules read accents;
folding afterwards makes "modele" and "modèle" meet. Hyphenated words are split
("grand-mère" -> "grand", "mer"); a name mixing letters and digits also gets its joined
form, so "GPT-4" gives "gpt", "4" and "gpt4", and meets "GPT4". This module does not do spelling correction or synonyms.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

ANALYZER_ID = "fr-snowball-v3"

# Elided articles and pronouns: l'IA -> IA, qu'il -> il, jusqu'à -> à, lorsqu'on -> on.
ELISIONS = frozenset("l d j m n s t c qu jusqu lorsqu puisqu quoiqu presqu quelqu".split())

# The Snowball project's French stop words (https://snowballstem.org), plus a few
# frequent auxiliary forms; all compared after lower-casing and before folding.
STOPWORDS = frozenset(
    """
    au aux avec ce ces dans de des du elle en et eux il ils je la le les leur lui ma mais me même mes moi mon
    ne nos notre nous on ou par pas pour qu que qui sa se ses son sur ta te tes toi ton tu un une vos votre
    vous c d j l à m n s t y été étée étées étés étant étante étants étantes suis es est sommes êtes sont
    serai seras sera serons serez seront serais serait serions seriez seraient étais était étions étiez
    étaient fus fut fûmes fûtes furent sois soit soyons soyez soient fusse fusses fût fussions fussiez
    fussent ayant ayante ayantes ayants eu eue eues eus ai as avons avez ont aurai auras aura aurons aurez
    auront aurais aurait aurions auriez auraient avais avait avions aviez avaient eut eûmes eûtes eurent
    aie aies ait ayons ayez aient eusse eusses eût eussions eussiez eussent ceci cela celà cet cette ici
    ils les leurs quel quels quelle quelles sans soi
    """.split()
)

_APOSTROPHES = str.maketrans({"\u2019": "'", "\u02bc": "'", "\u2018": "'", "`": "'", "\u00b4": "'"})
_TOKEN = re.compile(r"[^\W_]+(?:['-][^\W_]+)*", re.UNICODE)


def _stemmer():
    import snowballstemmer

    return snowballstemmer.stemmer("french")


_STEMMER = None


@lru_cache(maxsize=200_000)
def _term(word: str) -> str:
    global _STEMMER
    if _STEMMER is None:
        _STEMMER = _stemmer()
    stem = _STEMMER.stemWord(word) if not word.isdigit() else word
    folded = unicodedata.normalize("NFKD", stem)
    return "".join(c for c in folded if not unicodedata.combining(c))


def _strip_elision(token: str) -> str:
    while "'" in token:
        head, tail = token.split("'", 1)
        if head in ELISIONS and tail:
            token = tail
        else:
            return token.replace("'", "")
    return token


def analyze(text: str) -> list[str]:
    """Index terms of ``text``, in order, repeats kept (BM25 needs term frequencies)."""
    terms: list[str] = []
    for raw in _TOKEN.findall(text.lower().translate(_APOSTROPHES)):
        word = _strip_elision(raw)
        parts = word.split("-")
        for part in parts:
            if part and part not in STOPWORDS and (len(part) > 1 or part.isdigit()):
                terms.append(_term(part))
        if len(parts) > 1 and any(c.isdigit() for c in word) and any(c.isalpha() for c in word):
            # "GPT-3" is also written "GPT3": index the joined name too.
            terms.append(_term(word.replace("-", "")))
    return terms


# Interrogative and framing words: they say what kind of answer is wanted, not what it is
# about, so a passage need not contain them to answer the question.
QUESTION_WORDS = frozenset(
    """combien quel quelle quels quelles quand comment pourquoi où ou qui quoi lequel laquelle lesquels
    lesquelles est-ce selon cite citez donne donnez explique expliquez décris décrivez indique indiquez
    nomme nommez what which when where who why how""".split()
)
_QUESTION_TERMS = None


def analyze_question(text: str) -> list[str]:
    """``analyze`` without the question's interrogative words."""
    global _QUESTION_TERMS
    if _QUESTION_TERMS is None:
        _QUESTION_TERMS = {t for w in QUESTION_WORDS for t in analyze(w)}
    return [t for t in analyze(text) if t not in _QUESTION_TERMS]

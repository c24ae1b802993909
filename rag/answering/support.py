"""Does a passage support an answer sentence? A score in [0, 1] and the span that supports it,
without an NLI model.

The score mixes two signals, each computed against windows of one or two consecutive
sentences of the passage, keeping the best window (that window is the highlighted span):

- lexical: the share of the sentence's French content terms (``rag.text.analysis``: stemmed,
  accent-folded, stop words out) that the window contains, weighted by how rare each term
  is in the index (a shared "modèle" proves less than a shared "MosaicML");
- semantic: the embedder's cosine between the sentence and the window, rescaled from
  e5's narrow band of useful values to [0, 1].

Given the ``question`` the sentence answers, the claim checked is the question's terms plus
the sentence's, the sentence's *new* terms (not in the question) weighing double: a window
must hold what the answer adds and what it is about, so a terse answer ("17") is supported
by a window naming both the consortium and 17 members, not by any window containing "17". A number the sentence
adds that the window does not contain scales the score down in proportion: invented figures
are the commonest hallucination of small models, and they share every other word with the
passage. So does a number the window holds but counting something else: the model's « 1,7
trillion de couches » is not the passage's « 1,7 trillion de paramètres ». Numbers are read as
quantities on both sides (``rag.text.furniture``): a figure's or a reference's number in a
window (« Figure 12 », « Truc (12) ») does not hold the answer's « 12 », and the digits of a
name in the answer are no figure it claims.

Thresholds on these scores are calibrated by ``eval`` and stored, not set here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from rag.embedders import Embedder
from rag.text.analysis import analyze_question
from rag.text.furniture import content_numbers, strip_non_quantities
from rag.text.layout import windows
from rag.text.markers import strip_markers
from rag.text.numbers import content_terms, counted, numbers, same_count

# e5 cosines between unrelated French sentences sit near 0.75 and paraphrases near 0.92.
SEM_LOW, SEM_HIGH = 0.76, 0.93
# Answers with fewer content terms than this are embedded together with their question.
TERSE = 4


@dataclass(frozen=True)
class Support:
    score: float
    span: tuple[int, int]  # inside the passage text
    lexical: float
    semantic: float


class LexicalSemanticSupport:
    """Support from weighted term overlap plus embedding similarity; caches embeddings per text."""

    def __init__(self, embedder: Embedder | None, idf: Callable[[str], float] | None = None, lexical_weight=0.5):
        self.embedder = embedder
        self.idf = idf or (lambda term: 1.0)
        self.lexical_weight = lexical_weight if embedder is not None else 1.0
        self._vectors: dict[str, np.ndarray] = {}

    def _embed(self, texts: list[str]) -> list[np.ndarray]:
        missing = [t for t in dict.fromkeys(texts) if t not in self._vectors]
        if missing:
            for text, vector in zip(missing, self.embedder.embed_passages(missing)):
                self._vectors[text] = vector
        return [self._vectors[t] for t in texts]

    def lexical(self, sentence_terms: set[str], window_terms: set[str], double: set[str] = frozenset()) -> float:
        """Rarity-weighted share of ``sentence_terms`` in the window; terms in ``double`` weigh twice."""

        def weight(term: str) -> float:
            return self.idf(term) * (2.0 if term in double else 1.0)

        total = sum(weight(t) for t in sentence_terms)
        if total == 0:
            return 0.0
        return sum(weight(t) for t in sentence_terms & window_terms) / total

    def score_many(self, sentence: str, passages: list[str], question: str | None = None) -> list[Support]:
        """Support of ``sentence`` (an answer to ``question``, when given) by each passage, in
        one embedding call."""
        sentence = strip_markers(sentence)
        terms = content_terms(sentence)
        asked = content_terms(question, analyze_question) if question else set()
        new_terms = terms - asked
        new_numbers = content_numbers(sentence) - (numbers(question) if question else set())
        claimed = counted(sentence) if new_numbers else {}
        claim = f"{question} {sentence}" if question and len(terms) < TERSE else sentence
        all_windows = [windows(p) for p in passages]
        texts = [p[a:b] for p, ws in zip(passages, all_windows) for a, b in ws]
        sims: list[float] = []
        if self.embedder is not None and texts:
            vectors = self._embed([claim, *texts])
            sims = [float(vectors[0] @ v) for v in vectors[1:]]
        results, position = [], 0
        for passage, spans in zip(passages, all_windows):
            best: Support | None = None
            for a, b in spans:
                window = passage[a:b]
                window_terms = content_terms(window)
                if asked:  # the claim is the question's terms plus the sentence's, the new ones counting double
                    lex = self.lexical(terms | asked, window_terms, double=new_terms)
                else:
                    lex = self.lexical(terms, window_terms)
                sem = 0.0
                if sims:
                    sem = min(1.0, max(0.0, (sims[position] - SEM_LOW) / (SEM_HIGH - SEM_LOW)))
                position += 1
                score = self.lexical_weight * lex + (1 - self.lexical_weight) * sem
                if new_numbers:
                    content = strip_non_quantities(window)
                    window_counts = counted(content)
                    held = {n for n in new_numbers & numbers(content) if same_count(n, claimed, window_counts)}
                    score *= len(held) / len(new_numbers)
                # Prefer the shorter window on ties: a tighter highlight.
                if best is None or score > best.score + 1e-9:
                    best = Support(score, (a, b), lex, sem)
            results.append(best or Support(0.0, (0, 0), 0.0, 0.0))
        return results

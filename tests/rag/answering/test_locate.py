"""Locating the answer: windows ranked by support, reranked by the LLM's question likelihood
(a scripted scorer here, so the expected order is known), with the answer as a third signal."""

from __future__ import annotations

from rag.answering.locate import Locator
from rag.answering.support import LexicalSemanticSupport
from rag.testing import ScriptedLLM

PASSAGES = [
    "Le four du fournil chauffe au bois. Le four du fournil cuit le pain au levain.",
    "Le pain du fournil cuit quatre heures dans le four. Le marché ouvre le samedi.",
]
QUESTION = "Combien de temps cuit le pain au levain dans le four du fournil ?"


def _text(located, passages=PASSAGES):
    return passages[located.passage][located.span[0] : located.span[1]]


def _likes(word, calls=None):
    """A scorer that finds the question likely after a window holding ``word``."""

    def score(messages, reply):
        if calls is not None:
            calls.append(messages[-1]["content"])
        return -1.0 if word in messages[-1]["content"] else -5.0

    return ScriptedLLM([], scorer=score)


def test_without_a_scoring_model_windows_rank_by_support():
    support = LexicalSemanticSupport(None)
    ranked = Locator(support).rank(QUESTION, PASSAGES)
    scores = [w.support for w in ranked]
    assert scores == sorted(scores, reverse=True) and all(w.likelihood is None for w in ranked)
    assert _text(ranked[0]).startswith("Le four du fournil cuit le pain au levain")  # shares the most words
    assert len(ranked) == 6  # 2 sentences and 1 pair per passage


def test_the_question_likelihood_reranks_the_pool():
    calls: list[str] = []
    ranked = Locator(LexicalSemanticSupport(None), _likes("quatre heures", calls), pool=4).rank(QUESTION, PASSAGES)
    assert "quatre heures" in _text(ranked[0]) and ranked[0].likelihood == -1.0
    assert len(calls) == 4 and all(c.startswith("Passage : ") for c in calls)
    assert [w.likelihood is None for w in ranked] == [False] * 4 + [True] * 2  # outside the pool: support alone
    assert min(w.score for w in ranked[:4]) > max(w.score for w in ranked[4:])


def test_a_window_is_scored_once_per_question():
    calls: list[str] = []
    locator = Locator(LexicalSemanticSupport(None), _likes("quatre heures", calls), pool=4)
    first = locator.rank(QUESTION, PASSAGES)
    assert locator.rank(QUESTION, PASSAGES) == first and len(calls) == 4
    locator.rank("Quand ouvre le marché ?", PASSAGES)
    assert len(calls) == 8


def test_a_model_that_cannot_score_is_not_asked():
    locator = Locator(LexicalSemanticSupport(None), ScriptedLLM(["jamais"]))
    assert locator.llm is None and locator.rank(QUESTION, PASSAGES)[0].likelihood is None


def test_the_answer_pulls_towards_the_window_it_came_from():
    support = LexicalSemanticSupport(None)
    question = "Que fait le fournil ?"
    plain = Locator(support).rank(question, PASSAGES)
    guided = Locator(support).rank(question, PASSAGES, answer="Le marché ouvre le samedi.")
    assert "marché" not in _text(plain[0]) and "marché" in _text(guided[0])


def test_the_passages_standing_pulls_towards_the_passage_retrieval_put_first():
    """Two windows worded alike: the one in the passage retrieval ranked far ahead comes first;
    passages standing level leave the order to the windows' own signals."""
    support = LexicalSemanticSupport(None)
    passages = [
        "Comment changer le mot de passe ? Voir la section suivante.",
        "Pour changer le mot de passe, lancez la commande passwd.",
    ]
    question = "Comment changer le mot de passe ?"
    plain = Locator(support).rank(question, passages)
    assert plain[0].passage == 0  # the heading repeats the question word for word
    assert Locator(support).rank(question, passages, standing=[1.0, 1.0])[0].passage == 0
    assert Locator(support).rank(question, passages, standing=[0.5, 9.0])[0].passage == 1


def test_skipped_windows_are_left_out():
    ranked = Locator(LexicalSemanticSupport(None)).rank(QUESTION, PASSAGES, skip=lambda i, span: i == 0)
    assert ranked and {w.passage for w in ranked} == {1}
    assert Locator(LexicalSemanticSupport(None)).rank(QUESTION, PASSAGES, skip=lambda i, span: True) == []


def test_a_part_of_a_question_is_scored_by_the_whole_question():
    replies: list[str] = []
    llm = ScriptedLLM([], scorer=lambda messages, reply: replies.append(reply) or -1.0)
    whole = "Que fait le fournil, et combien de temps cuit ce pain ?"
    Locator(LexicalSemanticSupport(None), llm, pool=3).rank("Combien de temps cuit ce pain ?", PASSAGES, asked=whole)
    assert replies == [whole] * 3


def test_a_fuller_copy_of_a_window_elsewhere_comes_before_it():
    # slides shown a line at a time: the later slide repeats the earlier line and adds the answer
    slides = [
        "Le levain nourrit la pâte.\n\nLe four cuit la pâte.",
        "Le levain nourrit la pâte : farine et eau.\n\nLe four cuit la pâte : au bois.",
    ]
    question = "Que nourrit le levain dans la pâte ?"
    ranked = Locator(LexicalSemanticSupport(None), _likes("Le levain nourrit la pâte."), pool=6).rank(question, slides)
    texts = [_text(w, slides) for w in ranked]
    assert texts.index("Le levain nourrit la pâte : farine et eau.") < texts.index("Le levain nourrit la pâte.")
    # a window and its own two-sentence extension share their text: no copy, no reordering
    alone = Locator(LexicalSemanticSupport(None)).rank(question, slides[:1])
    assert [w.support for w in alone] == sorted((w.support for w in alone), reverse=True)

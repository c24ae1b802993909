"""Which windows may answer: introducing windows, windows that miss what is asked, windows about
another name."""

from __future__ import annotations

from rag.answering.skips import about as _about
from rag.answering.skips import introducing
from rag.answering.skips import not_answering as _not_answering
from rag.text.layout import windows


def test_which_windows_may_end_an_answer_as_its_excerpt():
    passage = (
        "Combien de temps cuit le pain au levain ? La question revient souvent.\n\n"
        "Le pain au levain cuit quarante minutes.\n\n## Le four\n"
    )
    question = "Combien de temps cuit le pain au levain ?"
    spans = {passage[a:b].strip(): (a, b) for a, b in windows(passage)}
    skip_quote, skip_located = _not_answering(question, [passage]), introducing([passage])
    asking = spans["Combien de temps cuit le pain au levain ?"]
    restating = spans["La question revient souvent."]
    answering = spans["Le pain au levain cuit quarante minutes."]
    heading = next(span for text, span in spans.items() if text.endswith("## Le four"))
    assert skip_quote(0, asking) and skip_located(0, asking)  # a question introduces, answers nothing
    assert skip_quote(0, heading) and skip_located(0, heading)  # so does a heading
    assert skip_quote(0, restating) and not skip_located(0, restating)  # no number for « combien »
    assert not skip_quote(0, answering) and not skip_located(0, answering)
    numbered = "Le four chauffe au bois.\n\n4.2 Historique du fournil"
    assert introducing([numbered])(0, (0, len(numbered)))  # a section number and a title: a heading
    assert not introducing(["Le four a 4.2 mètres."])(0, (0, 21))


def test_a_window_holding_the_documents_question_is_no_answer():
    # « Q ? A. »: the question's words make it rank first whatever A says; A has its own window
    passage = "8 -1 - Combien de temps cuit le pain au levain ?\n\nLe pain cuit quarante minutes."
    skip = introducing([passage])
    assert skip(0, (0, len(passage)))
    start = passage.index("Le pain")
    assert not skip(0, (start, len(passage)))
    url = "Le tarif est sur https://fournil.example/prix?pain=levain : trois euros."
    assert not introducing([url])(0, (0, len(url)))  # a link's « ? » asks nothing


def test_a_part_about_an_earlier_name_is_answered_from_what_writes_that_name():
    # « ..., et quelle est la taille de ce four ? » is about the FB-12: not the Brasero's size,
    # nor a passage that never writes FB-12, nor a sentence whose last named subject is another.
    fb12 = "Le FB-12 est le four de Dupont. Il mesure deux mètres. Le BrasEro mesure trois mètres. Sa taille étonne."
    other = "La taille des fours varie de un à quatre mètres."
    spans = {fb12[a:b]: (a, b) for a, b in windows(fb12)}
    skip = _about(("FB", "FB-12"), [fb12, other])
    assert skip(1, (0, len(other)))  # never writes FB-12
    assert not skip(0, spans["Le FB-12 est le four de Dupont."])
    assert not skip(0, spans["Il mesure deux mètres."])  # after a sentence about the FB-12
    assert skip(0, spans["Le BrasEro mesure trois mètres."])
    assert skip(0, spans["Sa taille étonne."])  # after a sentence about the BrasEro
    assert _about((), [fb12]) is None and _about(("Dupont-9",), [other]) is None  # nothing to go by

"""Citation markers: parsed, stripped, put back; answer sentences; passage text as quoted."""

from __future__ import annotations

from rag.answering.checks import is_refusal
from rag.answering.finishing import plain
from rag.text.markers import MARKER, answer_sentences, parse_markers, strip_markers, with_markers


def test_parsing_helpers():
    markers, invalid = parse_markers("Un [1]. Deux [2, 9]. Trois [0].", 3)
    assert [m[2] for m in markers] == [[1], [2], []] and invalid == [9, 0]
    text = "Première phrase [1]. Seconde phrase. [2]"
    assert [text[a:b] for a, b in answer_sentences(text)] == ["Première phrase [1].", "Seconde phrase. [2]"]
    assert with_markers("Il pleut [3].", (1, 2)) == "Il pleut [1][2]."
    assert with_markers("Extrait : « Il pleut. »", (2,)) == "Extrait : « Il pleut. » [2]"
    assert plain("# Pain\n\nIl cuit **quatre** heures [3].") == "Pain — Il cuit quatre heures."
    assert is_refusal("Je ne sais pas.") and not is_refusal("Le pain cuit quatre heures.")


def test_one_marker_grammar_ranges_included():
    markers, invalid = parse_markers("Vu [1-3]. Et [2; 4]. Mais [ 5 , 6 ].", 5)
    assert [m[2] for m in markers] == [[1, 2, 3], [2, 4], [5]] and invalid == [6]
    assert strip_markers("Vu [1-3] et [2;4].") == "Vu et ."
    assert MARKER.fullmatch("[1, 2-3]") and not MARKER.search("[a] (1) [1.5]")

"""The UI's HTML builders: untrusted text is escaped everywhere, spans land on the right
characters, [n] becomes a link only for a passage that exists, flags and labels."""

from __future__ import annotations

import re
from dataclasses import replace

import pytest

from rag.types import Answer, Chunk, Citation, Hit, SentenceCheck
from ui import render

SCRIPT = "<script>window.__pwned=1</script>"
IMG = '<img src=x onerror="window.__pwned=1">'


def _hit(text: str, source: str = "notes.md", rank: int = 1, **chunk) -> Hit:
    c = Chunk(f"d{rank}:0", f"d{rank}", source, text, 0, len(text), **chunk)
    return Hit(c, 0.03, rank, {"dense": 0.81234, "keyword": 7.5, "fused": 0.0325})


def _no_raw_tags(html: str) -> None:
    assert "<script" not in html and "<img" not in html
    assert "onerror=" not in html.replace("onerror=&quot;", "")  # only ever inside escaped text


def test_esc_escapes_tags_and_quotes():
    assert render.esc(SCRIPT) == "&lt;script&gt;window.__pwned=1&lt;/script&gt;"
    assert render.esc(IMG) == "&lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt;"
    assert render.esc("l'été & co") == "l&#x27;été &amp; co"


def test_highlight_marks_the_span_of_the_raw_text():
    assert render.highlight("Le pain coûte 5 €.", [(3, 7)]) == "Le <mark>pain</mark> coûte 5 €."


def test_highlight_escapes_inside_and_outside_the_mark():
    text = f"avant {SCRIPT} milieu {IMG} après"
    start = text.index("milieu")
    out = render.highlight(text, [(start - 2, start + len("milieu") + 3)])
    _no_raw_tags(out)
    assert out.count("<mark>") == 1 and out.count("</mark>") == 1
    assert "<mark>&gt; milieu &lt;i</mark>" in out  # offsets are raw characters; entities never split


def test_highlight_merges_clamps_and_ignores_bad_spans():
    text = "abcdefghij"
    assert render.highlight(text, [(2, 4), (3, 6), (8, 50), (5, 5), None, (-3, 1)]) == (
        "<mark>a</mark>b<mark>cdef</mark>gh<mark>ij</mark>"
    )
    assert render.merge_spans([(7, 9), (1, 2), (2, 3)], 10) == [(1, 3), (7, 9)]


def test_source_card_escapes_passage_source_and_headings():
    hit = _hit(f"Texte {SCRIPT} et {IMG}.", source=f"dossier/{IMG}.md", heading_path=(SCRIPT, "B"))
    card = render.source_card_html(hit, 2, turn=1, spans=[(0, 5)], cited=True)
    _no_raw_tags(card)
    assert 'id="source-1-2"' in card
    assert "<mark>Texte</mark>" in card
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt; › B" in card
    assert "dossier/&lt;img src=x onerror=&quot;window.__pwned=1&quot;&gt;.md" in card
    assert "dense 0.812 · mots-clés 7.5 · fusion 0.0325" in card
    assert "citée" in card


def test_source_card_pages_and_uncited_excerpt():
    hit = _hit("mot " * 200, page=3, page_end=4)
    card = render.source_card_html(hit, 1, limit=40)
    assert "p. 3–4" in card
    assert "…" in card and "citée" not in card and "<mark>" not in card
    assert render.pages_label(_hit("x", page=2, page_end=2).chunk) == "p. 2"
    assert render.pages_label(_hit("x").chunk) == ""


def test_pdf_line_breaks_are_joined_without_moving_the_spans():
    text = "Le chiffre\nd'affaires atteint\n1 184 000 euros.\n\nSuite."
    start = text.index("1 184")
    card = render.source_card_html(_hit(text, page=1), 1, spans=[(start, start + 9)], cited=True)
    assert "Le chiffre d&#x27;affaires atteint <mark>1 184 000</mark> euros.\n\nSuite." in card
    assert "chiffre\nd" in render.source_card_html(_hit(text), 1, cited=True)  # not a PDF: kept


def test_scores_label_shows_missing_stages_and_rerank():
    assert render.scores_label({"dense": 0.5}) == "dense 0.5 · mots-clés — · fusion —"
    assert render.scores_label({"dense": 0.5, "keyword": 2, "fused": 0.1, "rerank": 3.25}).endswith("reclassement 3.25")


def test_markers_become_links_only_for_existing_passages():
    out = render.link_markers("Vrai [1]. Aussi [2, 3]. Inventé [4]. Zéro [0].", n_passages=3, turn=5)
    assert out.count('class="rag-cite"') == 3
    for n in (1, 2, 3):
        assert f'href="#source-5-{n}"' in out
    assert 'href="#source-5-4"' not in out and 'href="#source-5-0"' not in out
    assert out.count('class="rag-cite-invalid"') == 2
    assert "[<a" in out and "</a>, <a" in out  # [2, 3] keeps its brackets and comma


def test_markers_inside_escaped_text_do_not_break_entities():
    out = render.link_markers(render.esc(f"{SCRIPT} [1] &amp; [x]"), 1)
    _no_raw_tags(out)
    assert "[x]" in out and out.count("rag-cite") == 1


def _answer(text_sentences, hits, citations=(), **kw) -> Answer:
    sentences = []
    position = 0
    for text, cites, supported, spans in text_sentences:
        sentences.append(SentenceCheck(text, position, position + len(text), cites, cites, 0.9, supported, spans))
        position += len(text) + 1
    from rag.text.markers import with_markers

    full = " ".join(with_markers(s.text, s.citations) for s in sentences)
    return Answer("q ?", full, tuple(citations), tuple(hits), tuple(sentences), **kw)


def test_answer_html_flags_unsupported_sentences_and_escapes():
    hits = [_hit("Le pain coûte 5 €.", rank=1), _hit(f"Autre {SCRIPT}", rank=2)]
    answer = _answer(
        [("Le pain coûte 5 € [1].", (1,), True, {1: (0, 17)}), (f"Il contient {IMG} [2].", (2,), False, {})],
        hits,
        citations=[Citation(1, hits[0], (0, 17))],
    )
    out = render.answer_html(answer, turn=0)
    _no_raw_tags(out)
    assert out.count("rag-unsupported") == 1
    assert f'title="{render.UNSUPPORTED_TITLE}"' in out and "⚠" in out
    assert 'href="#source-0-1"' in out and 'href="#source-0-2"' in out
    unsupported = out[out.index("rag-unsupported") :]
    assert "Il contient" in unsupported and "Le pain" not in unsupported


def test_answer_html_sets_the_passage_excerpt_apart():
    hits = [_hit("Le pain coûte 5 € le kilo.", rank=1)]
    answer = _answer([("Le pain coûte 5 € [1].", (1,), True, {1: (0, 17)})], hits)
    quote = SentenceCheck("Extrait : « Le pain coûte 5 € le kilo. »", 22, 22, (), (1,), 1.0, True, {1: (0, 26)}, True)
    answer = replace(
        answer, text=f"{answer.text} Extrait : « Le pain coûte 5 € le kilo. » [1]", sentences=(*answer.sentences, quote)
    )
    out = render.answer_html(answer)
    _no_raw_tags(out)
    assert out.count("rag-quote") == 1 and out.index("Le pain coûte 5 € [") < out.index("rag-quote")
    assert "le kilo" in out[out.index("rag-quote") :] and out.count('href="#source-0-1"') == 2


def test_answer_html_falls_back_to_the_text_when_sentences_do_not_match():
    hits = [_hit("a")]
    answer = Answer("q", f"Réponse {SCRIPT} [1] [9].", (), tuple(hits))
    out = render.answer_html(answer)
    _no_raw_tags(out)
    assert 'href="#source-0-1"' in out and "rag-cite-invalid" in out


def test_sources_html_highlights_supported_spans_only():
    hits = [_hit("Le pain coûte 5 €. Le four chauffe.", rank=1), _hit("Le musée ouvre.", rank=2)]
    answer = _answer(
        [("Le pain coûte 5 € [1].", (1,), True, {1: (0, 18)}), ("Le musée ferme [2].", (2,), False, {2: (0, 8)})],
        hits,
        citations=[Citation(1, hits[0], (0, 18))],
    )
    cited, others = render.sources_html(answer, turn=0)
    assert len(cited) == 2 and not others  # [2] is shown as cited, but its unsupported span is not marked
    assert "<mark>Le pain coûte 5 €.</mark> Le four chauffe." in cited[0]
    assert "<mark>" not in cited[1] and 'id="source-0-2"' in cited[1]


def test_sources_html_puts_cited_passages_first_and_a_refusal_cites_none():
    hits = [_hit(f"Passage {i}.", rank=i) for i in (1, 2, 3)]
    answer = _answer([("Passage 2 [2].", (2,), True, {2: (0, 9)})], hits, citations=[Citation(2, hits[1], (0, 9))])
    cited, others = render.sources_html(answer, turn=3)
    assert len(cited) == 1 and 'id="source-3-2"' in cited[0] and "<mark>Passage 2</mark>" in cited[0]
    assert len(others) == 2 and 'id="source-3-1"' in others[0] and 'id="source-3-3"' in others[1]
    refusal = Answer("q", "Ce n'est pas dans les documents.", (), tuple(hits), abstained=True, abstain_reason="x")
    cited, others = render.sources_html(refusal)
    assert not cited and len(others) == 3 and not any("<mark>" in c for c in others)


def test_draft_html_is_plain_escaped_text():
    out = render.draft_html(f"En cours {SCRIPT} [1]")
    _no_raw_tags(out)
    assert "href" not in out and out.endswith("▌</div>")


@pytest.mark.parametrize(
    ("reason", "expected"),
    [
        (
            "weak evidence: the passages cover 12% of the question's key terms",
            "les passages ne couvrent que 12% des termes importants de la question",
        ),
        (
            "low answerability: confidence 0.21 below 0.40 (weakest signal: evidence)",
            "les passages ne semblent pas répondre à la question (confiance 0.21, seuil 0.40 ; "
            "indice le plus faible : evidence)",
        ),
        ("the model found no answer in the passages", "le modèle n'a pas trouvé la réponse dans les passages"),
        (
            "3 of 4 sentences are not supported by the passages",
            "3 phrase(s) sur 4 ne sont pas étayées par les passages",
        ),
        ("the answer only restates the question", "la réponse ne fait que reformuler la question"),
        (
            "the question asks how many and the answer gives no number",
            "la question demande combien et la réponse ne donne aucun nombre",
        ),
        (
            "the question counts « GPU », which the cited passages never mention",
            "la question compte des « GPU », dont les passages cités ne parlent pas",
        ),
        ("something new", "something new"),
        (None, ""),
    ],
)
def test_abstain_reason_fr(reason, expected):
    assert render.abstain_reason_fr(reason) == expected


def test_timing_rows_units():
    rows = render.timing_rows({"retrieve": 0.0123, "evidence": 0.75, "tokens": 12, "tokens_per_second": 8.25})
    assert rows == [
        {"Étape": "Recherche des passages", "Valeur": "12 ms"},
        {"Étape": "Couverture de la question par les passages", "Valeur": "75%"},
        {"Étape": "Mots générés (jetons)", "Valeur": "12"},
        {"Étape": "Vitesse de génération", "Valeur": "8.2 jetons/s"},
    ]


def test_md_escape_and_labels():
    assert render.md_escape("**a** <b>[x](y)") == r"\*\*a\*\* \<b\>\[x\]\(y\)"
    assert render.size_label(812) == "812 o"
    assert render.size_label(12_600) == "12,3 Ko"
    assert render.outcome_label("added", chunks=3) == "ajouté (3 passages)"
    assert render.outcome_label("failed", "empty file") == "échec : empty file"


def test_markdown_and_latex_links_in_documents_stay_text():
    """st.html shows these strings: neither Markdown nor LaTeX is interpreted, no javascript: link."""
    hostile = "voir [la note](javascript:alert(1)) et $\\href{javascript:alert(2)}{x}$"
    card = render.source_card_html(_hit(hostile, source="[n](javascript:alert(3)).md"), 1, cited=True)
    answer = Answer("Q ?", f"{hostile} [1].", (Citation(1, _hit(hostile)),), (_hit(hostile),), mode="extractive")
    for html in (card, render.answer_html(answer)):
        assert "javascript:alert(1)" in html and "\\href{javascript:alert(2)}" in html  # shown as typed
        assert 'href="javascript' not in html and "href='javascript" not in html
        assert all(link.startswith('href="#source-') for link in re.findall(r"href=\S+", html))

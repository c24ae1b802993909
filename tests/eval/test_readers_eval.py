"""eval.readers: the boilerplate/content score by hand, the labelled fixtures, the chosen reader on them."""

from __future__ import annotations

import pytest

from eval.readers import (
    BOILERPLATE,
    CONTENT,
    EITHER,
    FIXTURES,
    faq_label,
    fixture_label,
    labelled_text,
    main,
    match_headings,
    score_page,
    score_text,
)
from ingest.readers import Extracted
from ingest.readers.html import read_html
from rag.types import Heading


def labelled(*parts: tuple[str, str]) -> tuple[str, list[str]]:
    text = "".join(part for part, _ in parts)
    labels = [label for part, label in parts for _ in part]
    return text, labels


def test_score_counts_characters_of_tokens():
    truth, labels = labelled(("Menu Accueil ", BOILERPLATE), ("Le pain cuit.", CONTENT))
    clean = score_text(truth, labels, "Le pain cuit.")
    assert (clean.boilerplate_kept, clean.boilerplate_total, clean.content_lost, clean.content_total) == (0, 11, 0, 11)
    # "Le pain cuit." is the tokens Le, pain, cuit, "." = 2 + 4 + 4 + 1 characters.
    dirty = score_text(truth, labels, "Menu Accueil\n\nLe pain")
    assert (dirty.boilerplate_kept, dirty.content_lost) == (11, 5)


def test_spacing_at_inline_boundaries_does_not_count():
    truth, labels = labelled(("Éditez sources.list .", CONTENT))
    assert score_text(truth, labels, "Éditez sources.list.").content_lost == 0


def test_text_in_both_furniture_and_content_is_the_contents_copy():
    truth, labels = labelled(
        ("Chapitre 1. Bases ", BOILERPLATE), ("Chapitre 1. Bases ", CONTENT), ("Le texte du chapitre.", CONTENT)
    )
    score = score_text(truth, labels, "Chapitre 1. Bases\n\nLe texte du chapitre.")
    assert (score.boilerplate_kept, score.content_lost) == (0, 0)


def test_a_lone_token_in_a_gap_is_not_kept():
    truth, labels = labelled(("Suivant ", BOILERPLATE), ("Le four chauffe .", CONTENT))
    assert score_text(truth, labels, "Le four chauffe . Suivant").boilerplate_kept == 0
    assert score_text(truth, labels, "Le Suivant four").content_lost == len("Lefourchauffe.")


def test_either_is_not_scored():
    truth, labels = labelled(("12 mars 2024 ", EITHER), ("Semer les tomates.", CONTENT))
    score = score_text(truth, labels, "Semer les tomates.")
    assert (score.boilerplate_total, score.content_total, score.content_lost) == (0, 5 + 3 + 7 + 1, 0)


def test_labelled_text_takes_the_innermost_label_and_refuses_unlabelled_text():
    page = b'<body><h1 data-truth="content">Titre<a data-truth="boilerplate">#</a></h1><p>libre</p></body>'
    with pytest.raises(ValueError, match="unlabelled"):
        labelled_text(page, fixture_label)
    page = b'<body data-truth="content"><h1>Titre<a data-truth="boilerplate">#</a></h1><p>Texte</p></body>'
    text, labels, titles = labelled_text(page, fixture_label)
    assert labels[text.index("#")] == BOILERPLATE and labels[text.index("Texte")] == CONTENT
    assert titles == [("Titre",)]


def test_faq_labels_come_from_docbook_classes():
    page = (
        b'<body><div class="navheader">Chapitre 2</div><div class="chapter"><h1>Chapitre 2</h1>'
        b'<div class="toc"><dl class="toc"><dt>2.1. Question ?</dt></dl></div>'
        b'<div class="section"><h2>2.1. Question ?</h2><p>Oui.</p></div></div></body>'
    )
    text, labels, titles = labelled_text(page, faq_label)
    assert labels[text.index("Chapitre 2")] == BOILERPLATE
    assert labels[text.index("2.1.")] == BOILERPLATE and labels[text.index("Oui")] == CONTENT
    assert titles == [("Chapitre", "2"), ("2", "1", "Question")]


def test_headings_must_point_at_their_title():
    extracted = Extracted("Titre\n\nSuite", headings=(Heading(0, 1, "Titre"), Heading(3, 2, "Suite")))
    assert match_headings(extracted, [("Titre",), ("Suite",)]) == (1, 0)
    extracted = Extracted("Titre\n\nMenu", headings=(Heading(0, 1, "Titre"), Heading(7, 2, "Menu")))
    assert match_headings(extracted, [("Titre",)]) == (1, 1)


FIXTURE_PAGES = sorted(FIXTURES.glob("*.html"))


def test_there_are_fixtures_of_several_generators():
    assert {p.stem for p in FIXTURE_PAGES} >= {"sphinx", "mkdocs", "mediawiki", "wordpress"}


@pytest.mark.parametrize("path", FIXTURE_PAGES, ids=lambda p: p.stem)
def test_the_reader_keeps_the_content_and_drops_the_furniture_of_each_fixture(path):
    score = score_page(path.read_bytes(), fixture_label, read_html, repeats=1)
    assert score.content_total > 400 and score.boilerplate_total > 100
    assert (score.content_lost, score.boilerplate_kept) == (0, 0)
    assert (score.headings_found, score.headings_extra) == (score.headings_total, 0)


def test_command_prints_the_table(capsys, tmp_path):
    assert main(["--readers", "hand-written,before", "--faq", str(tmp_path / "absent")]) == 0
    out = capsys.readouterr().out
    assert "| sphinx | hand-written | 0 / " in out and "| all fixtures | before |" in out

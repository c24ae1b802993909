"""Markdown: HTML comments are not text; heading offsets index the text returned without them."""

from __future__ import annotations

import pytest

from ingest.readers import read_document
from ingest.readers.text import drop_comments, read_markdown
from rag.errors import ReadError


def read(text: str):
    return read_markdown(text.encode("utf-8"))


def assert_offsets(extracted) -> None:
    for h in extracted.headings:
        assert extracted.text[h.offset :].startswith("#" * h.level + " " + h.title)


def test_comments_are_dropped_and_headings_point_into_the_result():
    text = (
        "<!-- brouillon : relire les tarifs -->\n"
        "# Le fournil\n\n"
        "Le pain <!-- vérifier l'heure --> sort du four à six heures.\n\n"
        "<!--\n## Ancienne section\nLe four à bois a été vendu.\n-->\n"
        "## Horaires\n\n"
        "Ouvert du mardi au dimanche.\n"
    )
    extracted = read(text)
    assert extracted.text == (
        "# Le fournil\n\nLe pain  sort du four à six heures.\n\n## Horaires\n\nOuvert du mardi au dimanche.\n"
    )
    assert [(h.level, h.title) for h in extracted.headings] == [(1, "Le fournil"), (2, "Horaires")]
    assert_offsets(extracted)
    for word in ("brouillon", "vérifier", "Ancienne", "vendu"):
        assert word not in extracted.text


def test_comment_markers_in_code_are_text():
    text = (
        "# HTML\n\n"
        "Un commentaire s'écrit `<!-- ainsi -->` dans une page.\n\n"
        "```html\n<!-- gardé : c'est l'exemple -->\n<p>x</p>\n```\n\n"
        "~~~\n<!-- gardé aussi -->\n~~~\n"
    )
    assert read(text).text == text


def test_a_comment_that_opens_mid_line_and_closes_later():
    assert drop_comments("avant <!-- un\ndeux\ntrois --> après\nfin\n") == "avant \n après\nfin\n"


def test_an_unclosed_comment_runs_to_the_end():
    assert drop_comments("# Titre\n\ntexte\n<!-- jamais fermé\nperdu\n") == "# Titre\n\ntexte\n"


def test_text_without_comments_is_unchanged():
    text = "# Titre\n\nUne flèche --> et un signe <! ne sont pas des commentaires.\n"
    assert drop_comments(text) == text


def test_a_file_of_comments_only_is_empty(tmp_path):
    path = tmp_path / "notes.md"
    path.write_text("<!-- rien à indexer -->\n\n<!-- ni ici -->\n", encoding="utf-8")
    with pytest.raises(ReadError, match="empty"):
        read_document(path, tmp_path)


def test_txt_keeps_comment_like_text(tmp_path):
    path = tmp_path / "a.txt"
    path.write_text("texte <!-- gardé -->\n", encoding="utf-8")
    assert read_document(path, tmp_path).text == "texte <!-- gardé -->\n"

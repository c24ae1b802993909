"""Plain text and Markdown: headings found by the Markdown rules, none in plain text."""

from __future__ import annotations

from tests.ingest.readers.files import read, write


def test_markdown_heading_rules(tmp_path):
    source = (
        "---\ntitle: front\n---\n"
        "# Un\n\n#hashtag n'est pas un titre\n\n"
        "```\n# dans du code\n```\n\n"
        "~~~~\n## toujours du code\n~~~\n~~~~\n\n"
        "Deux\n====\n\nTrois\n-----\n\n"
        "Texte\n\n---\n\n"
        "### Quatre ###\n"
    )
    doc = read(write(tmp_path, "a.md", source))
    assert [(h.level, h.title) for h in doc.headings] == [(1, "Un"), (1, "Deux"), (2, "Trois"), (3, "Quatre")]
    for h in doc.headings:
        assert doc.text[h.offset :].startswith(("#" * h.level + " " + h.title, h.title))


def test_txt_has_no_headings(tmp_path):
    assert read(write(tmp_path, "a.txt", "# pas un titre\n")).headings == ()

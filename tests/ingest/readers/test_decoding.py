"""Text encodings: detected, declared, BOMs, newlines normalised before offsets."""

from __future__ import annotations

from tests.ingest.readers.files import read, write


def test_cp1252_is_detected(tmp_path):
    text = "Le prix du cœur de bœuf est de 12 € – « très bon », dit l'œnologue.\n"
    assert read(write(tmp_path, "a.txt", text.encode("cp1252"))).text == text


def test_latin1_is_detected(tmp_path):
    text = "Élève à l'école, très agréable ; ça coûte cher. Où est la forêt ?\n"
    assert read(write(tmp_path, "a.txt", text.encode("latin-1"))).text == text


def test_utf8_bom_is_stripped(tmp_path):
    doc = read(write(tmp_path, "a.md", "\ufeff# Titre\n\nTexte".encode()))
    assert doc.text == "# Titre\n\nTexte"
    assert doc.headings[0].offset == 0


def test_utf16_with_bom(tmp_path):
    assert read(write(tmp_path, "a.txt", "Été\n".encode("utf-16"))).text == "Été\n"


def test_newlines_are_normalised_before_offsets(tmp_path):
    doc = read(write(tmp_path, "a.md", b"Intro\r\n\r\n## Deux\r\nfin\rvieux Mac"))
    assert doc.text == "Intro\n\n## Deux\nfin\nvieux Mac"
    assert doc.text[doc.headings[0].offset :].startswith("## Deux")


def test_html_declared_charset(tmp_path):
    page = '<html><head><meta charset="iso-8859-1"></head><body><p>Un œuf : 2 €</p></body></html>'
    assert read(write(tmp_path, "a.html", page.encode("cp1252"))).text == "Un œuf : 2 €"


def test_html_undeclared_cp1252(tmp_path):
    page = "<p>Déjà réglé : 12 € pour le pâté</p>"
    assert read(write(tmp_path, "a.htm", page.encode("cp1252"))).text == "Déjà réglé : 12 € pour le pâté"


def test_utf8_with_a_few_bad_bytes_stays_utf8_and_counts_them(tmp_path):
    """One stray byte spoils one character, not every accent of the file (no cp1252 re-decode)."""
    text = "Démystifier la fermentation : le levain « chef » se nourrit de farine. " * 5
    data = text.encode("utf-8")
    first, second = data.index(b" la "), data.index(b" de ")  # between ASCII characters
    doc = read(write(tmp_path, "a.txt", data[:first] + b"\xff" + data[first:second] + b"\x92" + data[second:]))
    assert "Démystifier" in doc.text and "Ã" not in doc.text
    assert doc.text.count("\ufffd") == 2
    assert doc.notes == ("read as UTF-8 with 2 invalid byte sequences replaced by \ufffd",)


def test_clean_files_carry_no_note(tmp_path):
    assert read(write(tmp_path, "a.txt", "Été à la forêt.".encode())).notes == ()
    cp1252 = "Le cœur de bœuf coûte 12 € – « très bon »."
    doc = read(write(tmp_path, "b.txt", cp1252.encode("cp1252")))
    assert doc.text == cp1252 and doc.notes == ()  # a cp1252 file is still read as cp1252

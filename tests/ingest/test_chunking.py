"""Structure-aware chunking: examples for each rule, then invariants on random documents."""

from __future__ import annotations

import math
import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.chunking import ChunkingParams, chunk_document
from rag.text.sentences import split_sentences
from rag.types import Chunk, Heading, Page, SourceDoc


def words(text: str) -> int:
    return len(text.split())


def quarter_chars(text: str) -> int:
    # Like a subword tokenizer, the spaces between sentences cost tokens too.
    return math.ceil(len(text) / 4)


COUNTERS = [words, quarter_chars]


def markdown_doc(text: str, doc_id: str = "doc", pages: tuple[Page, ...] = ()) -> SourceDoc:
    headings = tuple(
        Heading(m.start(), len(m.group(1)), m.group(2)) for m in re.finditer(r"^(#{1,6}) (.*)$", text, re.M)
    )
    return SourceDoc(doc_id, "a/b.md", text, pages=pages, headings=headings, format="markdown")


def check_invariants(doc: SourceDoc, chunks: list[Chunk], count: Callable[[str], int], params: ChunkingParams):
    text = doc.text
    covered = bytearray(len(text))
    for n, chunk in enumerate(chunks):
        assert chunk.chunk_id == f"{doc.doc_id}:{n}"
        assert (chunk.doc_id, chunk.source) == (doc.doc_id, doc.source)
        assert chunk.text == text[chunk.start : chunk.end]
        assert chunk.text and chunk.text == chunk.text.strip()
        assert count(chunk.text) <= params.max_tokens
        assert chunk.heading_path == doc.heading_path_at(chunk.start)
        assert chunk.page == doc.page_at(chunk.start)
        assert chunk.page_end == doc.page_at(chunk.end - 1)
        for h in doc.headings:
            if chunk.start < h.offset < chunk.end:
                # Only heading-only sections may run into the next section.
                lines = [line for line in text[chunk.start : h.offset].splitlines() if line.strip()]
                assert all(line.startswith("#") for line in lines), (chunk, h)
        covered[chunk.start : chunk.end] = b"\1" * (chunk.end - chunk.start)
    assert all(covered[i] for i, c in enumerate(text) if not c.isspace())
    for before, after in zip(chunks, chunks[1:]):
        assert before.start < after.start and before.end < after.end  # progress
        if after.start < before.end:
            shared = text[after.start : before.end]
            assert params.overlap_tokens > 0
            assert count(shared) <= params.overlap_tokens


# -- parameters ---------------------------------------------------------------------


def test_params_defaults_and_dict() -> None:
    assert ChunkingParams().as_dict() == {"chunker": "fr-v2", "max_tokens": 200, "overlap_tokens": 40}


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"max_tokens": 15, "overlap_tokens": 0}, "at least 16"),
        ({"max_tokens": 100, "overlap_tokens": 100}, "overlap_tokens must be between 0 and max_tokens - 1"),
        ({"max_tokens": 100, "overlap_tokens": -1}, "overlap_tokens must be between"),
        ({"max_tokens": 100.0}, "must be an integer"),
    ],
)
def test_params_are_validated(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        ChunkingParams(**kwargs)


# -- examples -----------------------------------------------------------------------


@pytest.mark.parametrize("text", ["", "   ", "\n\n\t \u00a0\n"])
def test_empty_documents_have_no_chunks(text: str) -> None:
    assert chunk_document(markdown_doc(text), words, ChunkingParams()) == []


def test_short_document_is_one_chunk_with_trimmed_text() -> None:
    doc = markdown_doc("\n\n  Une phrase. Une autre.  \n")
    [chunk] = chunk_document(doc, words, ChunkingParams())
    assert chunk.text == "Une phrase. Une autre."
    assert (chunk.start, chunk.page, chunk.page_end, chunk.heading_path) == (4, None, None, ())


def test_chunks_start_at_their_heading_and_never_cross_sections() -> None:
    text = "# Intro\n\nPhrase un. Phrase deux.\n\n## Détails\n\nPhrase trois.\n\n# Suite\nPhrase quatre."
    chunks = chunk_document(markdown_doc(text), words, ChunkingParams(max_tokens=100, overlap_tokens=10))
    assert [c.text for c in chunks] == [
        "# Intro\n\nPhrase un. Phrase deux.",
        "## Détails\n\nPhrase trois.",
        "# Suite\nPhrase quatre.",
    ]
    assert [c.heading_path for c in chunks] == [("Intro",), ("Intro", "Détails"), ("Suite",)]


def test_heading_only_sections_join_the_next_chunk() -> None:
    text = "# Chapitre 1\n\n## Section 1.1\n\nLe texte de la section."
    [chunk] = chunk_document(markdown_doc(text), words, ChunkingParams())
    assert chunk.text == text
    assert chunk.heading_path == ("Chapitre 1",)


def test_trailing_heading_alone_is_still_a_chunk() -> None:
    text = "# Un\nTexte.\n\n# Annexe\n"
    chunks = chunk_document(markdown_doc(text), words, ChunkingParams())
    assert [c.text for c in chunks] == ["# Un\nTexte.", "# Annexe"]


def test_overlap_repeats_trailing_whole_sentences() -> None:
    text = " ".join(f"Phrase numéro {i} ici." for i in range(40))  # 4 words each
    params = ChunkingParams(max_tokens=20, overlap_tokens=9)
    chunks = chunk_document(markdown_doc(text), words, params)
    check_invariants(markdown_doc(text), chunks, words, params)
    sentences = {text[a:b] for a, b in split_sentences(text)}
    for before, after in zip(chunks, chunks[1:]):
        shared = text[after.start : before.end]
        assert words(shared) == 8  # two whole sentences; a third would exceed 9
        assert all(s in sentences for s in re.findall(r"Phrase numéro \d+ ici\.", shared))
        assert after.text.startswith(shared)


def test_no_overlap_when_disabled() -> None:
    text = " ".join(f"Phrase numéro {i} ici." for i in range(40))
    chunks = chunk_document(markdown_doc(text), words, ChunkingParams(max_tokens=20, overlap_tokens=0))
    assert all(a.end < b.start for a, b in zip(chunks, chunks[1:]))
    assert all(words(c.text) == 20 for c in chunks)


def test_paragraphs_are_kept_whole_when_they_fit() -> None:
    para = "Une phrase de cinq mots. " * 3  # 15 words
    text = "\n\n".join(para.strip() for _ in range(4))
    chunks = chunk_document(markdown_doc(text), words, ChunkingParams(max_tokens=40, overlap_tokens=0))
    # Two paragraphs (30 words) per chunk: the third would have to be split, so it starts
    # the next chunk although 10 more words would fit.
    assert [c.text for c in chunks] == ["\n\n".join([para.strip()] * 2)] * 2
    with_overlap = chunk_document(markdown_doc(text), words, ChunkingParams(max_tokens=40, overlap_tokens=10))
    assert [words(c.text) for c in with_overlap] == [30, 40]  # 2 sentences of overlap + 2 paragraphs


@pytest.mark.parametrize("count", COUNTERS)
def test_table_without_punctuation_is_cut_between_words(count: Callable[[str], int]) -> None:
    row = "| Modèle | Paramètres | Langue | Licence |\n"
    text = "## Tableau\n" + "".join(row.replace("Modèle", f"M{i}") for i in range(300))
    doc = markdown_doc(text)
    params = ChunkingParams(max_tokens=64, overlap_tokens=8)
    chunks = chunk_document(doc, count, params)
    check_invariants(doc, chunks, count, params)
    assert chunks[0].text.startswith("## Tableau\n| M0 |")  # the heading is not left alone
    for chunk in chunks:
        assert chunk.start == 0 or text[chunk.start - 1].isspace()
        assert chunk.end == len(text) or text[chunk.end].isspace()


@pytest.mark.parametrize("count", COUNTERS)
def test_table_rows_are_not_split_between_chunks(count: Callable[[str], int]) -> None:
    # A .docx table: rows joined by newlines, no leading "|", no punctuation at all.
    text = "Titre du tableau\n\n" + "\n".join(f"M{i} | 7 milliards | français | MIT" for i in range(200))
    doc = markdown_doc(text)
    params = ChunkingParams(max_tokens=64, overlap_tokens=0)
    chunks = chunk_document(doc, count, params)
    check_invariants(doc, chunks, count, params)
    for chunk in chunks:
        assert chunk.text.startswith(("Titre", "M")) and chunk.text.endswith("MIT")


@pytest.mark.parametrize("count", COUNTERS)
def test_long_sentence_is_cut_under_the_limit(count: Callable[[str], int]) -> None:
    text = "Intro courte. " + " ".join(f"mot{i}" for i in range(3000)) + ". Conclusion."
    doc = markdown_doc(text)
    params = ChunkingParams(max_tokens=50, overlap_tokens=10)
    chunks = chunk_document(doc, count, params)
    check_invariants(doc, chunks, count, params)
    assert chunks[0].text.startswith("Intro courte. mot0")
    assert chunks[-1].text.endswith("Conclusion.")


@pytest.mark.parametrize("count", COUNTERS)
def test_a_single_huge_word_is_cut_inside(count: Callable[[str], int]) -> None:
    text = "Voici une URL : " + "x" * 5000 + " et la suite."
    doc = markdown_doc(text)
    params = ChunkingParams(max_tokens=16, overlap_tokens=4)
    chunks = chunk_document(doc, count, params)
    check_invariants(doc, chunks, count, params)


def paged(pages_text: list[str], joiner: str = "\n") -> SourceDoc:
    text, pages = "", []
    for number, page_text in enumerate(pages_text, 1):
        if text:
            text += joiner
        pages.append(Page(number, len(text), len(text) + len(page_text)))
        text += page_text
    return SourceDoc("pdf", "doc.pdf", text, pages=tuple(pages), format="pdf")


@pytest.mark.parametrize("joiner", ["\n", "\n\n", "\f"])
def test_sentence_running_onto_next_page_records_both_pages(joiner: str) -> None:
    doc = paged(
        [
            "Première page. Cette phrase commence en bas de la page et",
            "continue en haut de la page suivante. Puis une autre phrase.",
        ],
        joiner,
    )
    [chunk] = chunk_document(doc, words, ChunkingParams())
    assert (chunk.page, chunk.page_end) == (1, 2)
    assert chunk.text == doc.text


@pytest.mark.parametrize("joiner", ["\n", "\n\n", "\f"])
def test_page_ending_with_its_paragraph_starts_a_new_chunk(joiner: str) -> None:
    page_one = "Une phrase complète sur la page un. " * 4  # 28 words
    doc = paged([page_one.strip(), "La page deux commence ici. Et finit là."], joiner)
    params = ChunkingParams(max_tokens=100, overlap_tokens=20)
    chunks = chunk_document(doc, words, params)
    check_invariants(doc, chunks, words, params)
    assert [(c.page, c.page_end) for c in chunks] == [(1, 1), (2, 2)]
    assert chunks[1].text == "La page deux commence ici. Et finit là."


def test_scrap_at_end_of_page_is_not_a_chunk_of_its_own() -> None:
    doc = paged(["Fin.", "La page deux commence ici. Et finit là."])
    [chunk] = chunk_document(doc, words, ChunkingParams())
    assert (chunk.page, chunk.page_end) == (1, 2)


def test_each_sentence_is_counted_about_once() -> None:
    calls: list[int] = []

    def counting(text: str) -> int:
        calls.append(len(text))
        return words(text)

    text = " ".join(f"Phrase numéro {i} ici." for i in range(2000))
    chunk_document(markdown_doc(text), counting, ChunkingParams(max_tokens=100, overlap_tokens=20))
    assert sum(calls) < 3 * len(text)


# -- invariants on random documents ---------------------------------------------------

VOCAB = [
    "le", "modèle", "apprend", "des", "données", "M.", "Dupont", "p.", "12", "3,5", "%", "etc.", "«", "»",
    "www.exemple.fr", "J.-C.", "été", "où", "à", "réseau", "de", "neurones", "|", "x" * 30,
]  # fmt: skip
ENDS = [". ", ". ", "\u202f? ", " ! ", "… ", ", ", " ", "\n"]


@st.composite
def sentence(draw: st.DrawFn) -> str:
    body = " ".join(draw(st.lists(st.sampled_from(VOCAB), min_size=1, max_size=40)))
    return body[0].upper() + body[1:] + draw(st.sampled_from(ENDS))


@st.composite
def document(draw: st.DrawFn) -> SourceDoc:
    sections = []
    for _ in range(draw(st.integers(0, 6))):
        heading = ""
        if draw(st.booleans()):
            level = draw(st.integers(1, 3))
            heading = "#" * level + " " + draw(st.sampled_from(["Introduction", "Méthode", "Résultats"])) + "\n"
            heading += draw(st.sampled_from(["", "\n"]))
        paragraphs = draw(st.lists(st.lists(sentence(), max_size=8), max_size=4))
        sections.append(heading + "\n\n".join("".join(p) for p in paragraphs))
    text = "\n".join(sections)
    pages: tuple[Page, ...] = ()
    if text and draw(st.booleans()):
        cuts = sorted(set(draw(st.lists(st.integers(1, len(text)), max_size=5))) - {len(text)})
        bounds = [0, *cuts, len(text)]
        pages = tuple(Page(i + 1, a, b) for i, (a, b) in enumerate(zip(bounds, bounds[1:])))
    return markdown_doc(text, pages=pages)


@st.composite
def chunking_params(draw: st.DrawFn) -> ChunkingParams:
    max_tokens = draw(st.integers(16, 120))
    return ChunkingParams(max_tokens, draw(st.integers(0, max_tokens - 1)))


@settings(max_examples=300, deadline=None)
@given(doc=document(), params=chunking_params(), count=st.sampled_from(COUNTERS))
def test_invariants_on_random_documents(doc: SourceDoc, params: ChunkingParams, count) -> None:
    check_invariants(doc, chunk_document(doc, count, params), count, params)


# -- size ---------------------------------------------------------------------------

LLM_FR = Path(__file__).resolve().parents[3] / "shared" / "corpora" / "llm-fr" / "002_f1ff8e635c4cf773.txt"


def big_french_text() -> str:
    if LLM_FR.is_file():
        return LLM_FR.read_text(encoding="utf-8")
    paragraph = (
        "M. Dupont, né en 44 av. J.-C., a écrit (voir p. 12) que le taux est de 3,5 %. "
        "Vraiment\u202f? Oui\u202f! « C'est fini. » Puis il part… Il revient, etc.\n"
    )
    return "\n\n".join(f"## Partie {i}\n\n" + paragraph * 5 for i in range(1200))


def test_half_a_megabyte_is_chunked() -> None:
    text = big_french_text()
    assert len(text.encode()) > 400_000
    doc = markdown_doc(text)
    params = ChunkingParams()
    started = time.perf_counter()
    chunks = chunk_document(doc, words, params)
    elapsed = time.perf_counter() - started
    print(f"\n{len(text.encode()) / 1000:.0f} KB -> {len(chunks)} chunks in {elapsed:.3f} s")
    check_invariants(doc, chunks, words, params)


@pytest.mark.parametrize("ending", [". ", " "])
def test_a_text_on_one_line_is_cut_in_linear_time(ending: str) -> None:
    """A file of megabytes without a line break (or without any punctuation): the characters
    handed to the token counter grow like the text, not like its square (was: minutes for 19 MB)."""
    vocab = ["pain", "levain", "farine", "four", "seigle", "boulanger", "matin", "croûte", "mie"]

    def counted_per_char(n_sentences: int) -> float:
        text = "".join(" ".join(vocab[(i + j) % 9] for j in range(12)) + ending for i in range(n_sentences))
        work = [0]

        def count(piece: str) -> int:
            work[0] += len(piece)
            return len(piece.split())

        chunks = chunk_document(SourceDoc("d", "a.txt", text), count, ChunkingParams(200, 40))
        assert chunks and all(len(c.text.split()) <= 200 for c in chunks)
        return work[0] / len(text)

    small, large = counted_per_char(2_000), counted_per_char(16_000)
    assert large < 20 and large < small * 1.2

"""Hybrid retrieval over a small index built with the hashing embedder."""

from __future__ import annotations

import numpy as np
import pytest

from rag.errors import ConfigError
from rag.retrieval import Filters
from rag.service import RagService
from rag.settings import RetrievalSettings
from rag.testing import HashingEmbedder

DOCS = {
    "boulangerie.md": "# La boulangerie\n\nLe pain au levain cuit quatre heures dans le four à bois.\n\n"
    "## Tarifs\n\nLa baguette coûte un euro et dix centimes depuis janvier.\n",
    "musee/horaires.txt": "Le musée des beaux-arts ouvre à dix heures. Il ferme le mardi.",
    "musee/collections.txt": "La collection compte trois cents tableaux flamands et une salle de sculptures.",
    "marche.txt": "Le marché des producteurs se tient chaque samedi matin sur la place centrale.",
}


@pytest.fixture(scope="module")
def service(hashing_index):
    with RagService.open(hashing_index(DOCS)) as svc:
        yield svc


def test_hybrid_finds_the_passage_with_every_stage_score(service):
    hits = service.search("Combien coûte la baguette ?", k=3)
    assert hits[0].chunk.source == "boulangerie.md" and "baguette" in hits[0].chunk.text
    assert hits[0].chunk.heading_path == ("La boulangerie", "Tarifs")
    assert {"dense", "keyword", "fused"} <= set(hits[0].scores)
    assert [h.rank for h in hits] == [1, 2, 3]
    assert all(a.score >= b.score for a, b in zip(hits, hits[1:]))


def test_keyword_stage_handles_french_morphology(service):
    # "tableau" (singular) must match "tableaux"; elision "l'ouverture" vs "ouvre" is stemmed apart, fine.
    hits = service.search("tableau flamand", k=1)
    assert hits[0].chunk.source == "musee/collections.txt"


def test_filters_restrict_every_stage(service):
    hits = service.search("heures", k=5, filters=Filters(source_globs=("musee/*",)))
    assert hits and all(h.chunk.source.startswith("musee/") for h in hits)
    doc_id = hits[0].chunk.doc_id
    only = service.search("heures baguette marché", k=5, filters=Filters(doc_ids=(doc_id,)))
    assert {h.chunk.doc_id for h in only} == {doc_id}
    assert service.search("pain", k=5, filters=Filters(source_globs=("nothing/*",))) == []


def test_timings_and_empty_query(service):
    result = service.retrieve("marché samedi", k=2)
    assert {"embed", "dense", "keyword", "fuse", "total"} <= set(result.timings)
    assert service.search("   ", k=3) == []


def test_standardised_fusion_matches_a_brute_force_oracle(service):
    from rag.retrieval import Retriever
    from rag.text.analysis import analyze_question

    index, embedder = service.index, service.embedder
    query = "baguette du marché le samedi"
    # Chunks the keyword stage did not propose (no term in common) must still be scored
    # in it (0), and every score must be the exact one, not a rank-derived stand-in.
    settings = RetrievalSettings(neighbours=0)
    hits = Retriever(index, embedder, settings).search(query, 5)
    ids, vectors = index.store.all_vectors(index.dim)
    dense = dict(zip(ids.tolist(), (vectors @ embedder.embed_query(query)).tolist()))
    keywords = index.keywords()
    keyword_all = keywords.id_scores(analyze_question(query))
    keyword = dict(zip(keywords.unique_ids.tolist(), keyword_all.tolist()))
    d_mean, d_std = float(np.mean(list(dense.values()))), float(np.std(list(dense.values())))
    k_mean, k_std = float(keyword_all.mean()), float(keyword_all.std())
    rowid_of = {chunk.chunk_id: rowid for rowid, chunk in index.store.iter_chunks()}
    assert len(hits) == 5 and hits[0].chunk.source == "marche.txt"
    assert any(h.scores["keyword"] == 0.0 for h in hits) and any(h.scores["keyword"] > 0 for h in hits)
    for hit in hits:
        rowid = rowid_of[hit.chunk.chunk_id]
        assert hit.scores["dense"] == pytest.approx(dense[rowid], abs=1e-5)
        assert hit.scores["keyword"] == pytest.approx(keyword.get(rowid, 0.0))
        want = 0.6 * (dense[rowid] - d_mean) / d_std + 0.4 * (keyword.get(rowid, 0.0) - k_mean) / k_std
        assert hit.scores["fused"] == pytest.approx(want, abs=1e-4)


def test_rrf_fusion_is_still_available(service):
    from rag.retrieval import Retriever

    hits = Retriever(service.index, service.embedder, RetrievalSettings(fusion="rrf")).search(
        "Combien coûte la baguette ?", 2
    )
    assert hits[0].chunk.source == "boulangerie.md" and 0 < hits[0].scores["fused"] < 1


def test_single_stage_settings(service):
    index, embedder = service.index, service.embedder
    from rag.retrieval import Retriever

    dense_only = Retriever(index, embedder, RetrievalSettings(fusion="dense")).search("marché samedi", 2)
    assert "keyword" not in dense_only[0].scores
    keyword_only = Retriever(index, embedder, RetrievalSettings(fusion="keyword")).search("marché samedi", 2)
    assert keyword_only[0].chunk.source == "marche.txt" and "dense" not in keyword_only[0].scores
    with pytest.raises(ValueError):
        RetrievalSettings(fusion="magic")


def test_unknown_setting_is_refused(service):
    with pytest.raises(ConfigError, match="Unknown setting 'retrieval.fusoin'"):
        RagService.open(service.index.directory, fusoin="rrf")


def test_langchain_retriever_in_a_chain(service):
    pytest.importorskip("langchain_core")
    from langchain_core.prompts import ChatPromptTemplate
    from langchain_core.runnables import RunnableLambda, RunnablePassthrough

    from rag.langchain import RagRetriever

    retriever = RagRetriever(service=service, k=2)
    docs = retriever.invoke("prix de la baguette")
    assert docs[0].metadata["source"] == "boulangerie.md"
    assert {"page", "start", "end", "heading_path", "scores"} <= set(docs[0].metadata)
    prompt = ChatPromptTemplate.from_template("Contexte : {context}\nQuestion : {question}")
    chain = (
        {"context": retriever | RunnableLambda(lambda ds: "\n".join(d.page_content for d in ds)),
         "question": RunnablePassthrough()}
        | prompt
        | RunnableLambda(lambda value: value.to_string())
    )  # fmt: skip
    rendered = chain.invoke("prix de la baguette")
    assert "baguette coûte" in rendered and "Question : prix de la baguette" in rendered


def test_searches_during_commits_see_whole_generations(hashing_index):
    """An ingestion adding and removing a document while searches run: no search fails, and
    every passage is text of a document as it stands in the index."""
    import threading

    from rag.service import ingest as ingest_paths
    from rag.service import remove
    from rag.settings import Settings

    directory = hashing_index(DOCS)
    extra = directory.parent / f"{directory.name}-extra"
    extra.mkdir()
    (extra / "gare.txt").write_text("Le train pour Lyon part à huit heures du quai trois. " * 20, encoding="utf-8")
    settings = Settings.load(env={}, overrides={"index.dir": directory})
    done, failures = threading.Event(), []

    def writer():
        try:
            for _ in range(4):
                ingest_paths([extra], settings, embedder=HashingEmbedder(128), progress=False)
                remove(["gare.txt"], settings)
        except Exception as exc:  # noqa: BLE001 - collected for the assertion below
            failures.append(exc)
        finally:
            done.set()

    with RagService.open(directory) as svc:
        thread = threading.Thread(target=writer)
        thread.start()
        searches = 0
        while not done.is_set() or searches < 5:
            try:
                for hit in svc.search("À quelle heure part le train ? baguette", k=4):
                    text = svc.index.store.document_text(hit.chunk.doc_id)  # None: removed since
                    assert text is None or text[hit.chunk.start : hit.chunk.end] == hit.chunk.text
            except Exception as exc:  # noqa: BLE001 - collected for the assertion below
                failures.append(exc)
            searches += 1
        thread.join()
    assert not failures, failures[:3]
    assert searches >= 5


def test_an_index_updated_commit_after_commit_ranks_like_one_rebuilt(hashing_index, tmp_path):
    """Documents added and removed over several ingestions (segments, deletions): the fused
    ranking and every stage's score equal those of the same chunks indexed from scratch."""
    import shutil

    from ingest.chunking import ChunkingParams
    from ingest.pipeline import ingest, remove_documents
    from rag.index import Index
    from rag.retrieval import Retriever

    directory = hashing_index(DOCS)
    extra = tmp_path / "extra"
    extra.mkdir()
    for i in range(4):
        (extra / f"f{i}.txt").write_text(f"Le train numéro {i} part du quai {i} à huit heures. " * (3 + i), "utf-8")
        ingest([extra], directory, HashingEmbedder(128), ChunkingParams(40, 8), progress=False)
        if i % 2:
            remove_documents(directory, [str(extra / f"f{i - 1}.txt"), "marche.txt"])
    rebuilt = tmp_path / "rebuilt"
    rebuilt.mkdir()
    shutil.copy(directory / "chunks.sqlite", rebuilt / "chunks.sqlite")  # the store alone
    embedder = HashingEmbedder(128)
    with Index.open(directory) as updated, Index.open(rebuilt) as scratch:
        assert len(updated.keywords().segments) > 1  # it was updated, not rebuilt
        for query in ("À quelle heure part le train du quai 2 ?", "baguette du marché", "musée tableaux"):
            got = Retriever(updated, embedder, RetrievalSettings(neighbours=0)).search(query, 6)
            want = Retriever(scratch, embedder, RetrievalSettings(neighbours=0)).search(query, 6)
            assert [h.chunk.chunk_id for h in got] == [h.chunk.chunk_id for h in want]
            for mine, theirs in zip(got, want):
                assert mine.scores == pytest.approx(theirs.scores, rel=1e-9, abs=1e-9)


def test_small_corpora_rank_exactly_as_sparse_scores_and_top(service, monkeypatch):
    """The keyword stage's query takes the exact path on a small corpus: every hit and every
    stage's score is bit-identical to ``sparse_scores`` + ``top`` (what the retriever used)."""
    from types import SimpleNamespace

    from rag.index.keywords import KeywordIndex
    from rag.retrieval import Retriever

    settings = RetrievalSettings(neighbours=0)
    queries = ("Combien coûte la baguette ?", "musée tableaux flamands", "le marché du samedi matin")
    got = [Retriever(service.index, service.embedder, settings).retrieve(q, 4).hits for q in queries]

    def reference(self, terms, k, allowed_ids=None):
        scores = self.sparse_scores(terms)
        return SimpleNamespace(top=self.top(scores, k, allowed_ids), get=scores.get, mean_std=scores.mean_std)

    monkeypatch.setattr(KeywordIndex, "query", reference)
    want = [Retriever(service.index, service.embedder, settings).retrieve(q, 4).hits for q in queries]
    assert [[(h.chunk.chunk_id, h.scores) for h in hits] for hits in got] == [
        [(h.chunk.chunk_id, h.scores) for h in hits] for hits in want
    ]

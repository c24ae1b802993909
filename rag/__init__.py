"""rag: question answering over your own documents, with citations.

Importing this package is cheap: models and heavy libraries load on first use.

The layers, each importing only those below it: ``types``, ``errors``, ``settings`` and ``text``
(plain strings); ``index`` and ``embedders``; ``retrieval``; ``llm``; ``answering``; then the
façade ``service`` (the only one that uses the ``ingest`` package), and on top of it ``cli``,
``serialize``, ``langchain`` and ``testing``.

    from rag import RagService, Filters
    with RagService.open("path/to/index") as rag:
        for hit in rag.search("Qui a créé BLOOM ?", k=5):
            print(hit.rank, hit.chunk.source, hit.chunk.page, hit.scores)
"""

__version__ = "0.1.0"

__all__ = ["RagService", "Settings", "Filters", "Hit", "Chunk", "Answer"]


def __getattr__(name: str):
    # Lazy so that `import rag` stays instant and never pulls FAISS or a model.
    if name == "RagService":
        from rag.service import RagService

        return RagService
    if name == "Settings":
        from rag.settings import Settings

        return Settings
    if name == "Filters":
        from rag.retrieval import Filters

        return Filters
    if name in ("Hit", "Chunk", "Answer"):
        from rag import types

        return getattr(types, name)
    raise AttributeError(f"module 'rag' has no attribute {name!r}")

"""The on-disk index: the chunk store (``store``, SQLite, the source of truth), the vectors
(``vectors``, FAISS) and the keywords (``keywords``, BM25 over ``segments``) derived from it,
updated per commit (``derived``), and the directory that holds them with its identity and
lock (``directory.Index``).

Nothing here embeds, chunks or ranks across stages (``rag.retrieval``).
"""

from rag.index.directory import MANIFEST_FILE, SCHEMA_VERSION, STORE_FILE, Index, encode_chunking

__all__ = ["MANIFEST_FILE", "SCHEMA_VERSION", "STORE_FILE", "Index", "encode_chunking"]

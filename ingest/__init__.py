"""Ingestion: find files, read them into SourceDocs, chunk them and index the chunks.

The package only turns files into pipeline data; retrieval and answering live in ``rag``.
"""

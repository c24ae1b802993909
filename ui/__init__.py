"""The web interface (Streamlit): ``rag ui`` serves ``ui/app.py``.

It renders what ``rag.service.RagService`` returns and has no retrieval or answer logic
of its own. ``ui.render`` builds the escaped HTML (pure functions, unit-tested, no Streamlit);
``rag.uploads``, shared with the HTTP API, names, stores and ingests uploaded files safely.
"""

"""Errors a user can act on. Each message says what went wrong and how to fix it.

The CLI prints ``str(error)`` and exits with ``error.exit_code``; no traceback.
"""

from __future__ import annotations


class RagError(Exception):
    """Base class: a problem the user can fix; the message says how."""

    exit_code = 2


class ConfigError(RagError, ValueError):
    """A setting is missing or invalid."""


class MissingDependencyError(RagError):
    """An optional package is needed; the message names the install command."""

    def __init__(self, package: str, extra: str | None = None, purpose: str = ""):
        how = f'pip install "rag-fr[{extra}]"' if extra else f"pip install {package}"
        what = f" for {purpose}" if purpose else ""
        super().__init__(f"The package '{package}' is needed{what} but is not installed. Install it with: {how}")
        self.package = package


class IndexNotFoundError(RagError):
    """No index at the given location."""


class IndexMismatchError(RagError):
    """The index was built with another embedder, chunking or schema."""


class IndexLockedError(RagError):
    """Another process is writing the index (and the caller chose not to wait)."""


class IndexLocationError(RagError):
    """``--index`` names something that cannot hold an index (a file)."""


class IndexCorruptError(RagError):
    """The chunk store is damaged; the message gives the rebuild command."""


class IndexWriteError(RagError):
    """The index could not be written (disk full, read-only media); it is left as it was."""


class ModelError(RagError):
    """A model could not be found or loaded."""


class ReadError(RagError):
    """A document could not be read; the message says why."""

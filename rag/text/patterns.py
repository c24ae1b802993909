"""Building regular expressions from word lists kept as data."""

from __future__ import annotations

import re
from collections.abc import Iterable


def alternation(words: Iterable[str]) -> str:
    """A regex alternation of ``words``, escaped, longest first (« sections » before « section »)."""
    return "|".join(re.escape(w) for w in sorted(set(words), key=len, reverse=True))

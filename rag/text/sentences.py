"""Split French (and English) prose into sentence spans.

``split_sentences`` returns ``(start, end)`` offsets into the original text, so callers
can cut chunks that are exact slices of the document. The rules are hand-written for
French typography: « guillemets », no-break spaces before ``; : ! ? »``, abbreviations
(``M.``, ``p. 12``, ``art. 3``, ``av. J.-C.``), initials, decimals, ellipses, and
line-wrapped text where a single newline is not a sentence end.

It deliberately does not try to be a linguistic parser: no model, no dictionary beyond a
short abbreviation list, no language detection. A wrong split only moves a chunk
boundary by a sentence, so the rules favour being predictable over being clever. Rows of
a tab-separated table are units of their own; other text without any punctuation (a list
of keywords) comes back as one long span, which the chunker cuts at word boundaries.
"""

from __future__ import annotations

import re

# A run of terminal punctuation, the closing quotes/brackets that belong to it, and then
# whitespace or the end of the range. Requiring whitespace after is what keeps "2.5",
# "v1.2", "www.exemple.fr" and "a@b.fr" whole. The » may follow a (no-break) space,
# as French typography puts one inside guillemets: « Fini. »
_TERMINAL = re.compile(r"[.!?…]+(?:[ \t\u00a0\u202f\u2009]*»|[”\"’)\]])*(?=\s|\Z)")

# A blank line (possibly holding spaces) always ends a sentence.
_BLANK_LINE = re.compile(r"\n\s*\n")

# A single newline before a list item, a Markdown heading or a table row is a boundary
# even without punctuation: such lines are structure, not wrapped prose.
_STRUCTURAL_LINE = re.compile(r"\n(?=[^\S\n]*(?:[-*•–—+][^\S\n]|\d{1,3}[.)][^\S\n]|[a-z]\)[^\S\n]|#{1,6}[^\S\n]|\|))")

# A line with a tab after some text is a row of a tab-separated table (what PDF and slide
# converters make of tables): each row is a unit of its own, so that one table of ten rows
# is not one long "sentence" in which a row's few words drown. A tab that only indents a
# line of prose does not count.
_TABLE_ROW = re.compile(r"^[^\S\n]*\S[^\n\t]*\t[^\n]*$", re.MULTILINE)

# Never end a sentence, whatever follows: titles before a name (case-sensitive, so that
# "100 mm. Puis" still ends), and words that always announce something ("cf. Dupont",
# "av. J.-C.", "par ex. Paris"; compared lower-cased).
_TITLES = frozenset("M MM Mme Mmes Mlle Mlles Dr Pr Me Mgr St Ste Vve".split())
_PREFIX_ABBREVIATIONS = frozenset("cf av apr ex i.e e.g c.-à-d c.-a-d".split())

# End a sentence only when a capitalised sentence follows ("... etc. Puis" is a boundary,
# "etc. et" and "p. 12" are not).
_ABBREVIATIONS = frozenset(
    """etc al p pp art vol chap fig éd ed env coll ch t n no nos op cit ibid id éds
    j.-c réf ref suiv sq min max approx hab tél tel dép ann anc trad dir""".split()
)

_ROMAN = re.compile(r"[IVXLC]{1,6}")
_OPENERS = "«\"“‘([{—–-*•'"
_CLOSE_TRIM = '»”"’)]'


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[tuple[int, int]]:
    """Sentence spans of ``text[start:end]`` as absolute ``(start, end)`` offsets.

    Spans are in order, never overlap, are trimmed of surrounding whitespace, and together
    cover every non-whitespace character of the range.
    """
    end = len(text) if end is None else min(end, len(text))
    start = max(0, start)
    if start >= end:
        return []
    cuts: set[int] = set()
    for m in _BLANK_LINE.finditer(text, start, end):
        cuts.add(m.start())
    for m in _STRUCTURAL_LINE.finditer(text, start, end):
        cuts.add(m.start())
    for m in _TABLE_ROW.finditer(text, start, end):
        cuts.update((m.start(), m.end()))
    for m in _TERMINAL.finditer(text, start, end):
        if _ends_sentence(text, start, end, m.start(), m.end()):
            cuts.add(m.end())
    spans: list[tuple[int, int]] = []
    begin = start
    for cut in sorted(cuts) + [end]:
        span = _trim(text, begin, cut)
        if span is not None:
            spans.append(span)
        begin = cut
    return spans


def _trim(text: str, start: int, end: int) -> tuple[int, int] | None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return (start, end) if start < end else None


def _ends_sentence(text: str, lo: int, hi: int, punct_start: int, punct_end: int) -> bool:
    """Whether the terminal punctuation at ``text[punct_start:punct_end]`` ends a sentence."""
    nxt, newline = _next_start(text, punct_end, hi)
    if nxt is None:
        return True
    if text[nxt] in ".!?…;:»”)]":  # "Quoi ! ?" - the punctuation run goes on after a space
        return False
    first = text[nxt]
    punct = text[punct_start:punct_end].rstrip(_CLOSE_TRIM + " \t\u00a0\u202f\u2009")
    if "?" in punct or "!" in punct:
        # « Tu viens ? » demanda-t-il : a lowercase word continues the sentence - unless the
        # line ended there, which in running text means it really ended.
        return newline or not first.islower()
    if "…" in punct or ".." in punct:
        # Ellipses often mark a pause inside a sentence: only a capital starts a new one.
        return first.isalpha() and not first.islower()
    word = _word_before(text, lo, punct_start)
    key = word.lower()
    if word in _TITLES or key in _PREFIX_ABBREVIATIONS or _is_initial(word):
        return False
    if _is_list_marker(text, lo, punct_start, word):
        return False
    if first.islower() or first.isdigit():
        # "p. 12", "etc. et", "art. 3": abbreviations continue. After an ordinary word a
        # newline still counts as the end ("...fini.\nensuite" is a wrapped new sentence),
        # a space does not (an abbreviation we do not know is likelier than a sentence
        # starting in lowercase).
        if key in _ABBREVIATIONS or _is_dotted(word):
            return False
        return newline or first.isdigit()
    return True


def _next_start(text: str, pos: int, hi: int) -> tuple[int | None, bool]:
    """The first significant character after ``pos`` (skipping spaces and opening
    quotes/dashes), and whether a newline was crossed on the way."""
    newline = False
    i = pos
    while i < hi and (text[i].isspace() or text[i] in _OPENERS):
        if text[i] == "\n":
            newline = True
        i += 1
    return (i if i < hi else None), newline


def _word_before(text: str, lo: int, pos: int) -> str:
    """The whitespace-delimited word ending at ``pos``, without opening punctuation."""
    i = pos
    limit = max(lo, pos - 40)  # abbreviations are short; never scan a long token
    while i > limit and not text[i - 1].isspace():
        i -= 1
    return text[i:pos].lstrip(_OPENERS)


def _is_initial(word: str) -> bool:
    # "J. R. R. Tolkien", "É. Zola": one capital letter is a name initial, not a sentence.
    return len(word) == 1 and word.isalpha() and word.isupper()


def _is_dotted(word: str) -> bool:
    # "J.-C", "U.S.A", "c.-à-d": internal dots mean an abbreviation.
    return "." in word and all(len(part.strip("-")) <= 3 for part in word.split("."))


def _is_list_marker(text: str, lo: int, punct_start: int, word: str) -> bool:
    # "1. Premier point", "IV. Conclusion", "a. ..." at the start of a line number items.
    if not word or not (word.isdigit() and len(word) <= 3 or _ROMAN.fullmatch(word) or len(word) == 1):
        return False
    line_start = text.rfind("\n", lo, punct_start) + 1
    line_start = max(line_start, lo)
    return text[line_start : punct_start - len(word)].strip() == ""

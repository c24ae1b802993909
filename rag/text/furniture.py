"""Numbers that are not quantities: the text's furniture, recognised once for every reader.

A document numbers its own parts and its sources: « Figure 3 », « section 4.1 », « p. 12 »,
« Smith et al. [3] », « le corpus Truc (12) », « 1. » heading a list item, « 3/10 » at the foot
of a page, « 2.1 » heading a section; and names carry digits (« MPT-7B », « GPT-3.5 », « V3 »).
None of these says how much of anything there is, so none may be read as the figure a question
asks for, nor hold an answer's figure in a passage. ``furniture`` gives their character spans,
``strip_non_quantities`` blanks them (offsets kept), ``content_numbers`` reads the numbers left.

What stays a quantity: a number with a scale, a unit or a counted noun (« 7 milliards de
paramètres », « 175 B », « 12 % », « 3,5 millions »), and years, in parentheses too (« Dupont,
2019 », « Smith (2019) »): only one to three digits alone in brackets mark a reference. This
module does not decide what a question asks; the word lists are data (``furniture_words``).
"""

from __future__ import annotations

import re

from rag.text.furniture_words import ABBREVIATIONS, LABELS, RANGE_WORDS, SIGNS
from rag.text.numbers import numbers
from rag.text.patterns import alternation

# « 2.1 », « 8 -3 -17 »: a numbered heading's number: numbers of one or two digits joined by
# dots or dashes. It numbers the text; it is no quantity of it.
SECTION_NUMBER = r"[1-9]\d?(?:[ \t]*[-–.][ \t]*\d{1,2})+"
# A section number heading a line: « 8 -1 – 1 -1 - Comment ... », « 2.1 Modèle ... », « 3 : récupérer ... »:
# a section number, or one number ended by a dash, dot, colon or parenthesis, then a word.
OUTLINE = re.compile(
    rf"^[ \t#*>-]*(?:{SECTION_NUMBER}[ \t]*[-–.):]?|[1-9]\d?[ \t]*[-–.):])[ \t]+(?=[^\W\d_])",
    re.MULTILINE | re.UNICODE,
)
# A list item's number or letter heading a line, whatever follows: « 1. », « 2) », « (3) », « a) ».
_LIST_NUMBER = re.compile(r"^[ \t]*(?:[-*•][ \t]*)?(?:\d{1,2}[.)]|\(\d{1,2}\)|[a-z]\))(?=[ \t]+\S)", re.MULTILINE)
# A label and its number or numbers: « Figure 3 », « section 4.1 », « p. 12-15 », « Page 3 / 10 », « annexe B ».
_NUMBERED = r"(?:\d+(?:\.\d+)*[a-z]?\b|(?-i:[A-Z])\b)"
_LABELLED = re.compile(
    rf"(?<![\w-])(?:(?:{alternation(LABELS)})(?![\w-])|(?:{alternation(ABBREVIATIONS)})\.|{alternation(SIGNS)})"
    rf"[ \t\u00a0]*(?:n°[ \t]*)?\(?{_NUMBERED}\)?"
    rf"(?:[ \t\u00a0]*(?:[-–/]|(?:{alternation(RANGE_WORDS)})(?![\w-]))[ \t\u00a0]*\(?{_NUMBERED}\)?)*",
    re.IGNORECASE,
)
# A reference marker: one to three digits alone in square brackets anywhere (« [3] », « [3, 7] »,
# « [2-4] »), or in parentheses right after a word, an abbreviation's dot or a closing quote
# (« Truc (12) », « et al. (3) »). Four digits are a year, and years are quantities.
_MARKER_NUMBERS = r"\d{1,3}(?:[ \t]*[,;–-][ \t]*\d{1,3})*"
_REFERENCE = re.compile(
    rf"\[[ \t]*{_MARKER_NUMBERS}[ \t]*\]|(?:(?<=[^\W\d_])|(?<=[.»\"’]))[ \t\u00a0]*\({_MARKER_NUMBERS}\)"
)
# An enumeration inside a line: « ... 1: identifier ... 2: vérifier ... »: one or two digits ended by
# a colon, then a word. Lists flattened into one line keep it. (« 2) » inside a line may close a
# parenthesis: « (Four Bois 12) »; only at a line's start is it numbering, ``_LIST_NUMBER``.)
_ENUMERATION = re.compile(r"(?<![\w.,:/])\d{1,2}[ \t]*:(?=[ \t]+[^\W\d_])")
# Page furniture alone on a line: « 3/10 », « - 3 - ».
_PAGE_LINE = re.compile(r"^[ \t]*(?:\d{1,4}[ \t]*/[ \t]*\d{1,4}|[-–][ \t]*\d{1,4}[ \t]*[-–])[ \t]*$", re.MULTILINE)
# A name with digits in it: a word that starts with a letter (« MPT-7B », « GPT-3.5 », « V3 », « Llama3 »).
_NAME = re.compile(r"(?<![\w.-])[^\W\d_]\w*(?:[-.]\w+)*", re.UNICODE)
_DIGIT = re.compile(r"\d")

KINDS = {
    "outline": OUTLINE,
    "list": _LIST_NUMBER,
    "enumeration": _ENUMERATION,
    "label": _LABELLED,
    "reference": _REFERENCE,
    "page": _PAGE_LINE,
}


def furniture(text: str) -> list[tuple[int, int]]:
    """Character spans of ``text`` whose numbers are not quantities (see the module's docstring),
    sorted and merged."""
    spans = [m.span() for pattern in KINDS.values() for m in pattern.finditer(text)]
    spans += [m.span() for m in _NAME.finditer(text) if _DIGIT.search(m.group())]
    merged: list[tuple[int, int]] = []
    for a, b in sorted(s for s in spans if s[1] > s[0]):
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(b, merged[-1][1]))
        else:
            merged.append((a, b))
    return merged


def strip_non_quantities(text: str) -> str:
    """``text`` with its furniture (``furniture``) blanked by spaces, offsets kept."""
    spans = furniture(text)
    if not spans:
        return text
    pieces, position = [], 0
    for a, b in spans:
        pieces += [text[position:a], " " * (b - a)]
        position = b
    return "".join([*pieces, text[position:]])


def content_numbers(text: str) -> set[str]:
    """The numbers of ``text`` that may be quantities (``rag.text.numbers.numbers`` of the text
    without its furniture): « Figure 3 : 7 milliards de paramètres [12] » -> {"7"}."""
    return numbers(strip_non_quantities(text))

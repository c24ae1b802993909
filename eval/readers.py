"""HTML readers side by side: how much page furniture each one keeps and how much content it loses.

Usage::

    python -m eval.readers [--faq ../shared/corpora/debian-faq] [--fixtures tests/fixtures/html]
        [--readers before,hand-written,trafilatura,trafilatura-recall] [--show]

Prints one row per page set and reader: characters of boilerplate kept, characters of
content lost, headings found, and the seconds the reader took (parsing included, best of
three runs, summed over the pages of the set). The readers are ``hand-written``
(``ingest.readers.html.read_html``, what ingestion uses), ``before`` (the same with its
furniture rules off: the reader as it was before them), ``hand-written-names-only`` and
``hand-written-density-only`` (one kind of rule each), and two trafilatura settings. The
page sets are

- each fixture in ``tests/fixtures/html``: pages written for this benchmark in the markup of
  one generator each (Sphinx classic theme, Material for MkDocs, MediaWiki's Vector skin, a
  WordPress blog post with Jetpack and a cookie notice, Docusaurus, Hugo's PaperMod theme,
  publican), with invented French text. Every element whose text matters carries a
  ``data-truth`` attribute, ``content`` or ``boilerplate``, set by hand from what a person
  reading the page would call its text; the innermost one wins (a ``¶`` link inside a
  heading is boilerplate inside content). ``either`` marks metadata that no reader is
  judged on (a date, a byline, tags). Text with no label is an error, so a fixture cannot
  silently leave something unscored. The readers never look at ``data-truth``. The same
  person wrote these pages and the hand-written rules, from the generators' real markup:
  the fixtures show that the rules fire on the names those generators use, not that they
  reach themes nobody looked at; the link-density rule and the ``*-only`` rows are the
  measure of that.
- the 16 chapter pages of the Debian FAQ (``../shared/corpora/debian-faq``, DocBook XSL
  output), scored as one group. There the truth comes from the FAQ's own structure, not
  from a person: boilerplate is what DocBook puts in ``div.navheader``, ``div.navfooter``
  and ``div.toc`` (the chapter's table of contents); content is everything else in the
  body, i.e. the chapter title, the chapter's opening paragraphs, the ``div.section``
  bodies and the footnotes. These are the very class names the hand-written reader
  removes, so on the FAQ the numbers say that its rules fire and that nothing else is
  lost; the fixtures, labelled independently, are the fairer test of the rules.

How a page is scored: the labelled text of the page and the reader's text are both cut
into tokens (runs of word characters, and single punctuation marks, so that spacing
differences such as « sources.list . » against « sources.list. » do not count) and
aligned with ``difflib.SequenceMatcher`` (no junk heuristic). A truth token is kept when
the alignment matches it to a token of the output. Alignment, not substring search,
matters here: a table of contents repeats the section titles, and a reader that drops
the contents but keeps the headings must get credit for it. Content is aligned first and
the boilerplate then with what is left of the output, so that a title printed both in a
navigation bar and as the page's h1, and once in the output, counts as the h1. "Characters" are the
characters of the tokens, so whitespace is not counted. Isolated one-token matches
(a comma or a « de » that happens to fall in a gap) are not counted as kept.

"Headings" counts the headings the reader returns whose offset points at their title in
its text and whose words are those of an h1-h6 of the content, out of those; "other
headings" counts the rest it returns (a sidebar's « Sujet précédent », a title made from
``<title>``). The trafilatura readers run
``trafilatura.extract`` (HTML output, formatting and tables kept, comments and links
left out) and read its output with the project's reader, so that both return the same
``Extracted`` with heading offsets; ``trafilatura-recall`` adds ``favor_recall=True``.
This module needs ``trafilatura`` only for those two readers; it does not change how
anything is ingested.
"""

from __future__ import annotations

import argparse
import difflib
import importlib.util
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ingest.readers import Extracted
from ingest.readers.html import read_html

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "tests" / "fixtures" / "html"
FAQ = ROOT.parent / "shared" / "corpora" / "debian-faq"

CONTENT, BOILERPLATE, EITHER = "content", "boilerplate", "either"
FAQ_BOILERPLATE = ("navheader", "navfooter", "toc")
# Text inside these tags is not text a person sees; every other tag except the inline ones
# below separates words (so that minified ``</p><p>`` does not glue two words together).
_INVISIBLE = frozenset("head title script style noscript template".split())
_INLINE = frozenset(
    "a abbr acronym b bdi bdo cite code data dfn em font i kbd mark q s samp small span strong sub sup "
    "time tt u var wbr".split()
)
_HEADING_TAGS = frozenset(("h1", "h2", "h3", "h4", "h5", "h6"))
_TOKEN = re.compile(r"\w+|[^\w\s]")
MIN_MATCH_TOKENS = 2

Reader = Callable[[bytes], Extracted]


def read_with_trafilatura(data: bytes, *, favor_recall: bool = False) -> Extracted:
    """trafilatura's main content, as HTML, read by the project's reader (for its headings)."""
    import trafilatura

    html = trafilatura.extract(
        data,
        output_format="html",
        include_formatting=True,
        include_tables=True,
        include_comments=False,
        include_links=False,
        include_images=False,
        favor_recall=favor_recall,
        with_metadata=False,
    )
    if not html:
        return Extracted("")
    return read_html(html.encode("utf-8"))


READERS: dict[str, Reader] = {
    "hand-written": read_html,
    "hand-written-names-only": lambda data: read_html(data, by_density=False),
    "hand-written-density-only": lambda data: read_html(data, by_name=False),
    "before": lambda data: read_html(data, by_name=False, by_density=False),
    "trafilatura": read_with_trafilatura,
    "trafilatura-recall": lambda data: read_with_trafilatura(data, favor_recall=True),
}
DEFAULT_READERS = ("before", "hand-written", "trafilatura", "trafilatura-recall")


# -- the truth ----------------------------------------------------------------------------
def labelled_text(html: bytes, label_of: Callable[[object], str | None]) -> tuple[str, list[str], list[tuple]]:
    """The page's visible text, one label per character, and the titles of its content headings.

    ``label_of(tag)`` gives a tag's own label or None (it then inherits its parent's). A
    title is given as its words (see ``title_words``), its furniture (a ``¶``) left out.
    """
    import warnings

    from bs4 import BeautifulSoup, XMLParsedAsHTMLWarning
    from bs4.element import NavigableString, PreformattedString, Tag

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        soup = BeautifulSoup(html, "lxml")
    chars: list[str] = []
    labels: list[str] = []
    titles: list[tuple] = []
    opened: dict[int, int] = {}  # id of a content heading -> where its text starts in labels

    def put(text: str, label: str) -> None:
        chars.append(text)
        labels.extend([label] * len(text))

    stack: list[tuple[object, str | None, bool]] = [(soup.body or soup, None, False)]
    while stack:
        node, label, leaving = stack.pop()
        if isinstance(node, Tag):
            if node.name in _INVISIBLE:
                continue
            if node.name not in _INLINE:
                put(" ", EITHER)
            if leaving:
                if id(node) in opened:
                    start = opened.pop(id(node))
                    text = "".join(chars)[start:]
                    chars[:] = ["".join(chars)]
                    titles.append(title_words("".join(c for c, lab in zip(text, labels[start:]) if lab == CONTENT)))
                continue
            own = label_of(node) or label
            if node.name in _HEADING_TAGS and own == CONTENT:
                opened[id(node)] = len(labels)
            stack.append((node, own, True))
            stack.extend((child, own, False) for child in reversed(node.contents))
        elif isinstance(node, NavigableString) and not isinstance(node, PreformattedString):
            text = str(node)
            if not text.strip():
                put(" ", EITHER)
                continue
            if label is None:
                raise ValueError(f"unlabelled text in the page: {text.strip()[:60]!r}")
            put(text, label)
    return "".join(chars), labels, titles


def title_words(title: str) -> tuple[str, ...]:
    """A heading title as its words only, so that spacing and punctuation do not count."""
    return tuple(re.findall(r"\w+", title))


def fixture_label(tag) -> str | None:
    value = tag.get("data-truth")
    if value is not None and value not in (CONTENT, BOILERPLATE, EITHER):
        raise ValueError(f"data-truth must be content, boilerplate or either, not {value!r}")
    return value


def faq_label(tag) -> str | None:
    classes = tag.get("class") or ()
    if tag.name == "div" and any(name in classes for name in FAQ_BOILERPLATE):
        return BOILERPLATE
    return CONTENT if tag.name == "body" else None


# -- the score ----------------------------------------------------------------------------
@dataclass
class Score:
    boilerplate_kept: int = 0
    boilerplate_total: int = 0
    content_lost: int = 0
    content_total: int = 0
    headings_found: int = 0
    headings_total: int = 0
    headings_extra: int = 0
    seconds: float = 0.0
    kept_samples: list[str] = field(default_factory=list)
    lost_samples: list[str] = field(default_factory=list)

    def add(self, other: Score) -> None:
        for name in (
            "boilerplate_kept",
            "boilerplate_total",
            "content_lost",
            "content_total",
            "headings_found",
            "headings_total",
            "headings_extra",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.seconds += other.seconds
        self.kept_samples += other.kept_samples
        self.lost_samples += other.lost_samples


def tokens_with_labels(text: str, labels: list[str]) -> tuple[list[str], list[str]]:
    found = list(_TOKEN.finditer(text))
    return [m.group() for m in found], [labels[m.start()] for m in found]


def score_text(truth: str, labels: list[str], output: str) -> Score:
    """Boilerplate kept and content lost, in characters of tokens, when ``output`` is read."""
    truth_tokens, token_labels = tokens_with_labels(truth, labels)
    output_tokens = _TOKEN.findall(output)
    kept = [False] * len(truth_tokens)
    # Content first: text that is both in the furniture and in the content (a page title
    # repeated in a navigation bar, a section title in the contents) is there once in the
    # output, and is taken as the content's copy; the furniture is then looked for in what
    # is left of the output.
    remaining = list(range(len(output_tokens)))
    for label in (CONTENT, BOILERPLATE):
        positions = [i for i, token_label in enumerate(token_labels) if token_label == label]
        source = [truth_tokens[i] for i in positions]
        target = [output_tokens[j] for j in remaining]
        matcher = difflib.SequenceMatcher(None, source, target, autojunk=False)
        used = set()
        for block in matcher.get_matching_blocks():
            if block.size >= MIN_MATCH_TOKENS:
                for k in range(block.size):
                    kept[positions[block.a + k]] = True
                    used.add(remaining[block.b + k])
        remaining = [j for j in remaining if j not in used]
    score = Score()
    for token, label, was_kept in zip(truth_tokens, token_labels, kept):
        if label == CONTENT:
            score.content_total += len(token)
            score.content_lost += 0 if was_kept else len(token)
        elif label == BOILERPLATE:
            score.boilerplate_total += len(token)
            score.boilerplate_kept += len(token) if was_kept else 0
    score.kept_samples = _runs(truth_tokens, token_labels, kept, BOILERPLATE, True)
    score.lost_samples = _runs(truth_tokens, token_labels, kept, CONTENT, False)
    return score


def _runs(tokens: list[str], labels: list[str], kept: list[bool], label: str, state: bool) -> list[str]:
    """The token runs with this label and this kept state, for --show."""
    runs: list[str] = []
    current: list[str] = []
    for token, token_label, was_kept in zip(tokens, labels, kept):
        if token_label == label and was_kept == state:
            current.append(token)
        elif current:
            runs.append(" ".join(current))
            current = []
    if current:
        runs.append(" ".join(current))
    return runs


def match_headings(extracted: Extracted, titles: list[tuple]) -> tuple[int, int]:
    """(content headings returned, other headings returned). A heading counts only when its
    offset points at its own title in the text; a content heading is one whose words are
    those of an h1-h6 of the content."""
    text = extracted.text
    wanted: dict[tuple, int] = {}
    for title in titles:
        wanted[title] = wanted.get(title, 0) + 1
    found = extra = 0
    for h in extracted.headings:
        if " ".join(text[h.offset :].split())[: len(h.title)] != h.title:
            continue
        words = title_words(h.title)
        if wanted.get(words, 0) > 0:
            wanted[words] -= 1
            found += 1
        else:
            extra += 1
    return found, extra


def score_page(data: bytes, label_of, reader: Reader, repeats: int = 3) -> Score:
    truth, labels, titles = labelled_text(data, label_of)
    seconds = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        extracted = reader(data)
        seconds = min(seconds, time.perf_counter() - started)
    score = score_text(truth, labels, extracted.text)
    score.headings_found, score.headings_extra = match_headings(extracted, titles)
    score.headings_total = len(titles)
    score.seconds = seconds
    return score


def page_sets(fixtures: Path, faq: Path | None) -> list[tuple[str, list[Path], Callable]]:
    sets = [(path.stem, [path], fixture_label) for path in sorted(fixtures.glob("*.html"))]
    if faq is not None and faq.is_dir():
        sets.append((f"debian-faq ({len(list(faq.glob('*.html')))} pages)", sorted(faq.glob("*.html")), faq_label))
    return sets


def run(fixtures: Path, faq: Path | None, readers: list[str]) -> list[tuple[str, str, Score]]:
    rows = []
    for name, paths, label_of in page_sets(fixtures, faq):
        for reader_name in readers:
            total = Score()
            for path in paths:
                total.add(score_page(path.read_bytes(), label_of, READERS[reader_name]))
            rows.append((name, reader_name, total))
    return rows


def render(rows: list[tuple[str, str, Score]]) -> str:
    lines = [
        "| pages | reader | boilerplate kept | content lost | headings | other headings | seconds |",
        "|---|---|---|---|---|---|---|",
    ]
    totals: dict[str, Score] = {}
    for name, reader, score in rows:
        lines.append(_row(name, reader, score))
        if not name.startswith("debian-faq"):
            totals.setdefault(reader, Score()).add(score)
    for reader, score in totals.items():
        lines.append(_row("all fixtures", reader, score))
    return "\n".join(lines)


def _row(name: str, reader: str, s: Score) -> str:
    return (
        f"| {name} | {reader} | {s.boilerplate_kept} / {s.boilerplate_total} | {s.content_lost} / {s.content_total} "
        f"| {s.headings_found} / {s.headings_total} | {s.headings_extra} | {s.seconds:.3f} |"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m eval.readers", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--fixtures", type=Path, default=FIXTURES, help="folder of labelled fixture pages")
    parser.add_argument("--faq", type=Path, default=FAQ, help="the Debian FAQ pages (skipped when absent)")
    parser.add_argument(
        "--readers", default=",".join(DEFAULT_READERS), help=f"comma-separated, among {', '.join(READERS)}"
    )
    parser.add_argument("--show", action="store_true", help="also print the boilerplate kept and content lost")
    args = parser.parse_args(argv)
    readers = [name.strip() for name in args.readers.split(",") if name.strip()]
    unknown = [name for name in readers if name not in READERS]
    if unknown:
        parser.error(f"unknown reader(s): {', '.join(unknown)}")
    if importlib.util.find_spec("trafilatura") is None and any(r.startswith("trafilatura") for r in readers):
        print("trafilatura is not installed (pip install trafilatura): its rows are left out", file=sys.stderr)
        readers = [r for r in readers if not r.startswith("trafilatura")]
    if not args.faq.is_dir():
        print(f"no Debian FAQ at {args.faq}: fixtures only", file=sys.stderr)
    rows = run(args.fixtures, args.faq, readers)
    print(render(rows))
    if args.show:
        for name, reader, score in rows:
            print(f"\n## {name} / {reader}")
            print("boilerplate kept:", " || ".join(score.kept_samples) or "-")
            print("content lost:", " || ".join(score.lost_samples) or "-")
    return 0


if __name__ == "__main__":
    sys.exit(main())

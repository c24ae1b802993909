"""HTML for answers and source cards: pure functions from ``rag.types`` to escaped HTML strings.

Document text, source names and answer text are untrusted: every piece of them goes
through ``esc`` before any tag (``<mark>``, ``<a>``, ``<span>``) is put around it, and the
tags are built here from fixed strings and numbers only. Streamlit's ``st.html`` sanitises
again (DOMPurify); that is a second line of defence, not the first. This module does not
import Streamlit, retrieve or check anything: it shows what ``RagService`` returned.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable

from rag.text.markers import MARKER
from rag.types import Answer, Chunk, Hit

UNSUPPORTED_TITLE = "non étayée par les passages"
# The answerer's marker grammar (rag.text.markers.MARKER): [3], [1, 2], [1;2], [1-3]. Brackets,
# digits, commas, semicolons and dashes survive html.escape unchanged, so it runs on escaped text.
_NUMBER = re.compile(r"\d+")

STAGE_LABELS = {"dense": "dense", "keyword": "mots-clés", "fused": "fusion", "rerank": "reclassement"}
TIMING_LABELS = {
    "standalone": "Reformulation de la question",
    "retrieve": "Recherche des passages",
    "assess": "Les passages répondent-ils ?",
    "first_token": "Premier mot du modèle",
    "generate": "Génération",
    "check": "Vérification des citations",
    "quote": "Choix de l'extrait",
    "second_look": "Seconde lecture",
    "locate": "Recherche du passage qui répond",
    "total": "Total",
}

CSS = """
<style>
.rag-answer { font-size: 1.05rem; line-height: 1.6; }
.rag-answer .rag-unsupported { background: rgba(255, 75, 75, 0.12); border-bottom: 2px dashed #d33;
  text-decoration: none; cursor: help; }
.rag-answer .rag-flag { color: #d33; font-weight: 600; }
.rag-answer .rag-quote { display: block; margin-top: 0.4rem; padding-left: 0.6rem; font-style: italic;
  border-left: 3px solid rgba(28, 131, 225, 0.5); }
a.rag-cite { font-weight: 600; text-decoration: none; padding: 0 0.1em; border-radius: 0.2em; }
a.rag-cite:hover { background: rgba(28, 131, 225, 0.15); }
.rag-cite-invalid { color: #999; text-decoration: line-through; cursor: help; }
.rag-draft { white-space: pre-wrap; opacity: 0.75; }
.rag-source { border: 1px solid rgba(128, 128, 128, 0.35); border-left: 4px solid rgba(128, 128, 128, 0.5);
  border-radius: 0.4rem; padding: 0.6rem 0.8rem; margin-bottom: 0.8rem; scroll-margin-top: 4rem; }
.rag-source.rag-cited { border-left-color: #1c83e1; }
.rag-source:target { box-shadow: 0 0 0 3px rgba(28, 131, 225, 0.45); }
.rag-source-head { font-weight: 600; overflow-wrap: anywhere; }
.rag-num { display: inline-block; min-width: 1.8em; color: #1c83e1; }
.rag-badge { font-size: 0.75rem; font-weight: 500; border-radius: 0.6em; padding: 0.05em 0.5em;
  margin-left: 0.4em; background: rgba(28, 131, 225, 0.15); }
.rag-where { font-size: 0.85rem; opacity: 0.75; margin: 0.15rem 0 0.35rem 0; overflow-wrap: anywhere; }
.rag-passage { white-space: pre-wrap; font-size: 0.9rem; line-height: 1.45; overflow-wrap: anywhere; }
.rag-passage mark { background: #ffe066; color: #1a1a1a; padding: 0 0.1em; border-radius: 0.15em; }
.rag-scores { font-size: 0.78rem; opacity: 0.7; margin-top: 0.4rem; font-variant-numeric: tabular-nums; }
</style>
"""


def esc(text: object) -> str:
    """``text`` as HTML text: ``& < > " '`` escaped, so it can never open a tag or attribute."""
    return html.escape(str(text), quote=True)


def source_anchor(turn: int, number: int) -> str:
    """The id of source card ``number`` of conversation turn ``turn`` (unique on the page)."""
    return f"source-{turn}-{number}"


# -- passages ---------------------------------------------------------------------------------
def merge_spans(spans: Iterable[tuple[int, int] | None], length: int) -> list[tuple[int, int]]:
    """Spans clamped to ``[0, length]``, empty ones dropped, overlapping ones merged, sorted."""
    clean = sorted((max(0, a), min(length, b)) for a, b in (s for s in spans if s) if min(length, b) > max(0, a))
    merged: list[tuple[int, int]] = []
    for a, b in clean:
        if merged and a <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
        else:
            merged.append((a, b))
    return merged


def highlight(text: str, spans: Iterable[tuple[int, int] | None] = ()) -> str:
    """``text`` escaped, with each span (character offsets into the raw text) in ``<mark>``.

    Offsets are applied to the raw text and each piece is escaped on its own, so an entity
    such as ``&lt;`` is never cut in half and a span never shifts.
    """
    out: list[str] = []
    position = 0
    for a, b in merge_spans(spans, len(text)):
        out.append(esc(text[position:a]))
        out.append(f"<mark>{esc(text[a:b])}</mark>")
        position = b
    out.append(esc(text[position:]))
    return "".join(out)


def unwrap_lines(text: str) -> str:
    """PDF text with its line breaks joined (paragraph breaks kept); same length, so spans stay valid."""
    return re.sub(r"(?<!\n)\n(?!\n)", " ", text)


def excerpt(text: str, limit: int | None) -> str:
    """The first ``limit`` characters of ``text`` (cut at a space), with an ellipsis when cut."""
    if limit is None or len(text) <= limit:
        return text
    cut = text.rfind(" ", 0, limit)
    return text[: cut if cut > limit // 2 else limit].rstrip() + " …"


def pages_label(chunk: Chunk) -> str:
    if not chunk.page:
        return ""
    if chunk.page_end and chunk.page_end != chunk.page:
        return f"p. {chunk.page}–{chunk.page_end}"
    return f"p. {chunk.page}"


def scores_label(scores: dict[str, float]) -> str:
    """Per-stage retrieval scores, e.g. ``dense 0.931 · mots-clés 10.51 · fusion 0.0328``."""
    parts = []
    for stage in ("dense", "keyword", "fused", "rerank"):
        if stage in scores:
            parts.append(f"{STAGE_LABELS[stage]} {scores[stage]:.3g}")
        elif stage != "rerank":
            parts.append(f"{STAGE_LABELS[stage]} —")
    return " · ".join(parts)


def source_card_html(
    hit: Hit,
    number: int,
    turn: int = 0,
    spans: Iterable[tuple[int, int] | None] = (),
    cited: bool = False,
    limit: int | None = None,
) -> str:
    """One source card: number, file name, page(s), heading path, passage with the supporting
    span(s) highlighted, retrieval scores. ``limit`` shortens a passage that is not cited."""
    chunk = hit.chunk
    spans = list(spans)
    text = chunk.text
    if chunk.page is not None:
        text = unwrap_lines(text)
    if not (cited or spans):
        text = excerpt(text, limit)
    where = [esc(p) for p in (pages_label(chunk),) if p]
    if chunk.heading_path:
        where.append(" › ".join(esc(h) for h in chunk.heading_path))
    badge = '<span class="rag-badge">citée</span>' if cited else ""
    where_html = f'<div class="rag-where">{" · ".join(where)}</div>' if where else ""
    return (
        f'<div class="rag-source{" rag-cited" if cited else ""}" id="{source_anchor(turn, number)}">'
        f'<div class="rag-source-head"><span class="rag-num">[{number}]</span>{esc(chunk.source)}{badge}</div>'
        f"{where_html}"
        f'<div class="rag-passage">{highlight(text, spans)}</div>'
        f'<div class="rag-scores">{esc(scores_label(hit.scores))}</div>'
        "</div>"
    )


# -- answers ----------------------------------------------------------------------------------
def link_markers(escaped: str, n_passages: int, turn: int = 0) -> str:
    """Turn [n] markers of already escaped text into links to source card n, for 1 <= n <= n_passages.

    Numbers outside that range stay plain text, struck through, with a tooltip.
    """

    def number(m: re.Match) -> str:
        n = int(m.group(0))
        if 1 <= n <= n_passages:
            return f'<a class="rag-cite" href="#{source_anchor(turn, n)}" title="passage {n}">{n}</a>'
        return f'<span class="rag-cite-invalid" title="pas de passage {n}">{n}</span>'

    def marker(m: re.Match) -> str:
        return "[" + _NUMBER.sub(number, m.group(1)) + "]"

    return MARKER.sub(marker, escaped)


def sentence_html(text: str, supported: bool, n_passages: int, turn: int = 0, quote: bool = False) -> str:
    body = link_markers(esc(text), n_passages, turn)
    if quote:  # the passage's own words, set apart from the model's
        return f'<span class="rag-sentence rag-quote">{body}</span>'
    if supported:
        return f'<span class="rag-sentence">{body}</span>'
    return (
        f'<span class="rag-sentence rag-unsupported" title="{esc(UNSUPPORTED_TITLE)}">'
        f'<span class="rag-flag">⚠ </span>{body}</span>'
    )


def answer_pieces(answer: Answer) -> list[tuple[str, bool]] | None:
    """The answer as (sentence text with its checked markers, supported) pairs, or None when
    the sentences do not add up to ``answer.text`` (then the text is shown as a whole)."""
    if not answer.sentences:
        return None
    from rag.text.markers import with_markers

    pieces = [(with_markers(s.text, s.citations), s.supported) for s in answer.sentences]
    if " ".join(p for p, _ in pieces) != answer.text:
        return None
    return pieces


def answer_html(answer: Answer, turn: int = 0) -> str:
    """The checked answer: unsupported sentences flagged (⚠, style, tooltip), [n] linked to cards."""
    n = len(answer.hits)
    pieces = answer_pieces(answer)
    if pieces is None:
        body = link_markers(esc(answer.text), n, turn)
    else:
        quotes = [s.quote for s in answer.sentences]
        body = " ".join(
            sentence_html(text, supported, n, turn, quote) for (text, supported), quote in zip(pieces, quotes)
        )
    return f'<div class="rag-answer">{body}</div>'


def draft_sentences_html(answer: Answer, turn: int = 0) -> str:
    """A rejected draft, sentence by sentence as the checker saw it (refusal after generation)."""
    n = len(answer.hits)
    body = " ".join(sentence_html(s.text, s.supported, n, turn) for s in answer.sentences)
    return f'<div class="rag-answer">{body}</div>'


def draft_html(text: str, cursor: bool = True) -> str:
    """The answer while it streams: plain escaped text (markers are checked only at the end)."""
    return f'<div class="rag-answer rag-draft">{esc(text)}{"▌" if cursor else ""}</div>'


def highlight_spans(answer: Answer) -> dict[int, list[tuple[int, int]]]:
    """Passage number -> spans to highlight: where supported sentences found their support."""
    spans: dict[int, list[tuple[int, int]]] = {}
    for sentence in answer.sentences:
        if not sentence.supported:
            continue
        for n in sentence.citations:
            if sentence.spans.get(n):
                spans.setdefault(n, []).append(sentence.spans[n])
    for citation in answer.citations:
        if citation.span:
            spans.setdefault(citation.number, []).append(citation.span)
    return spans


def cited_numbers(answer: Answer) -> set[int]:
    """The passages the answer shows a marker for (none for a refusal)."""
    if answer.abstained:
        return set()
    numbers = {c.number for c in answer.citations} | {n for s in answer.sentences for n in s.citations}
    return {n for n in numbers if 1 <= n <= len(answer.hits)}


def sources_html(answer: Answer, turn: int = 0, limit: int = 260) -> tuple[list[str], list[str]]:
    """Cards for the cited passages (whole, supporting spans highlighted), then for the other
    retrieved ones (shortened); each keeps its number [n] = ``answer.hits[n - 1]``."""
    spans = highlight_spans(answer)
    cited = cited_numbers(answer)
    cards = {
        n: source_card_html(hit, n, turn, spans.get(n, ()), cited=n in cited, limit=limit)
        for n, hit in enumerate(answer.hits, 1)
    }
    return [cards[n] for n in sorted(cards) if n in cited], [cards[n] for n in sorted(cards) if n not in cited]


def hits_html(hits: Iterable[Hit], turn: int = 0, limit: int = 260) -> list[str]:
    """Cards for passages found before the answer is ready (no highlight yet)."""
    return [source_card_html(hit, n, turn, limit=limit) for n, hit in enumerate(hits, 1)]


# -- small labels -----------------------------------------------------------------------------
_REASONS = (
    (
        re.compile(r"weak evidence: the passages cover (\d+%) of the question's key terms"),
        "les passages ne couvrent que {0} des termes importants de la question",
    ),
    (
        re.compile(r"low answerability: confidence ([\d.]+) below ([\d.]+) \(weakest signal: (\w+)\)"),
        "les passages ne semblent pas répondre à la question (confiance {0}, seuil {1} ; indice le plus faible : {2})",
    ),
    (re.compile(r"the model found no answer in the passages"), "le modèle n'a pas trouvé la réponse dans les passages"),
    (
        re.compile(r"(\d+) of (\d+) sentences are not supported by the passages"),
        "{0} phrase(s) sur {1} ne sont pas étayées par les passages",
    ),
    (re.compile(r"the answer only restates the question"), "la réponse ne fait que reformuler la question"),
    (
        re.compile(r"the model's sentences cite none of the passages that answer best"),
        "ses phrases ne citent aucun des passages qui répondent le mieux",
    ),
    (
        re.compile(r"the question asks how many and the answer gives no number"),
        "la question demande combien et la réponse ne donne aucun nombre",
    ),
    (
        re.compile(r"the question counts « (.+) », which the cited passages never mention"),
        "la question compte des « {0} », dont les passages cités ne parlent pas",
    ),
)


def abstain_reason_fr(reason: str | None) -> str:
    """The service's refusal reason in French when it is one of the known ones, else as is."""
    if not reason:
        return ""
    for pattern, french in _REASONS:
        m = pattern.fullmatch(reason.strip())
        if m:
            return french.format(*m.groups())
    return reason


def timing_rows(timings: dict[str, float]) -> list[dict[str, str]]:
    """Rows for the timings table: stages in seconds, then the evidence and token counters."""
    rows = []
    for key, value in timings.items():
        if key == "evidence":
            rows.append({"Étape": "Couverture de la question par les passages", "Valeur": f"{value:.0%}"})
        elif key == "answerability":
            rows.append({"Étape": "Confiance : les passages répondent", "Valeur": f"{value:.2f}"})
        elif key == "tokens":
            rows.append({"Étape": "Mots générés (jetons)", "Valeur": f"{int(value)}"})
        elif key == "tokens_per_second":
            rows.append({"Étape": "Vitesse de génération", "Valeur": f"{value:.1f} jetons/s"})
        else:
            rows.append({"Étape": TIMING_LABELS.get(key, key), "Valeur": f"{value * 1000:.0f} ms"})
    return rows


_MARKDOWN_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|<>~$:])")


def md_escape(text: object) -> str:
    """``text`` for a Streamlit markdown string (st.warning, st.caption...): shown literally."""
    return _MARKDOWN_SPECIAL.sub(r"\\\1", str(text))


def size_label(n_bytes: int) -> str:
    """A file size the French way: ``812 o``, ``12,3 Ko``, ``4,1 Mo``."""
    size = float(n_bytes)
    for unit in ("o", "Ko", "Mo", "Go"):
        if size < 1024 or unit == "Go":
            text = f"{size:.0f}" if unit == "o" else f"{size:.1f}"
            return f"{text.replace('.', ',')} {unit}"
        size /= 1024
    return f"{n_bytes} o"  # unreachable


OUTCOME_LABELS = {
    "added": "ajouté",
    "updated": "mis à jour",
    "unchanged": "inchangé",
    "removed": "retiré",
    "skipped": "ignoré",
    "failed": "échec",
}


def outcome_label(status: str, reason: str = "", chunks: int = 0) -> str:
    """One ingestion outcome in French, e.g. ``ajouté (12 passages)`` or ``échec : empty file``."""
    label = OUTCOME_LABELS.get(status, status)
    if status in ("added", "updated", "unchanged") and chunks:
        label += f" ({chunks} passage{'s' if chunks > 1 else ''})"
    if reason:
        label += f" : {reason}"
    return label

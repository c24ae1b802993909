"""The text ``rag`` prints for people: answers with their sources, hits, the index summary."""

from __future__ import annotations


def answer_to_text(answer) -> list[str]:
    """The lines ``rag ask`` prints: the answer, why it was refused or why the model's draft
    was set aside, unsupported sentences, then the cited spans (or the nearest passages)."""
    lines = [answer.text]
    if answer.abstained:
        lines.append(f"\n({answer.abstain_reason})")
    elif answer.draft_rejected:
        lines.append(
            f"\n(the model's answer was set aside: {answer.draft_rejected}; "
            "above are the words of the passage that answers best)"
        )
    for sentence in answer.sentences:
        if not sentence.supported:
            lines.append(f"  ⚠ not supported by the passages: {' '.join(sentence.text.split())}")
    shown = [(c.number, c.hit.chunk, c.span) for c in answer.citations]
    shown = shown or [(h.rank, h.chunk, None) for h in answer.hits[:3]]
    lines.append("\nSources:" if answer.citations else "\nNearest passages:")
    for number, chunk, span in shown:
        where = chunk.source + (f", p. {chunk.page}" if chunk.page else "")
        text = chunk.text[span[0] : span[1]] if span else chunk.text[:300]
        lines.append(f"[{number}] {where}: {' '.join(text.split())}")
    return lines


def hit_lines(hits) -> list[str]:
    """``rag search``'s lines: each hit's rank, place and stage scores, then its text."""
    if not hits:
        return ["No passage found."]
    lines = []
    for hit in hits:
        chunk = hit.chunk
        where = chunk.source + (f", p. {chunk.page}" if chunk.page else "")
        if chunk.heading_path:
            where += " > " + " > ".join(chunk.heading_path)
        stages = ", ".join(f"{k} {v:.3f}" for k, v in hit.scores.items())
        lines.append(f"[{hit.rank}] {where}  ({stages})")
        lines.append("    " + " ".join(chunk.text.split())[:400])
    return lines


def index_lines(info: dict, docs) -> list[str]:
    """``rag index info``'s lines."""
    stats = info["stats"]
    lines = [
        f"Index: {info['directory']} (schema {info['schema_version']}, generation {info['generation']})",
        f"Embedder: {info['embedder']['id']} (dim {info['embedder']['dim']}), vectors: {info['index_type']}",
        f"Chunking: {info['chunking']}",
        f"Documents: {stats['documents']}, chunks: {stats['chunks']}, pages: {stats['pages']}",
    ]
    for d in docs:
        pages = f", {d.n_pages} pages" if d.n_pages else ""
        lines.append(f"  {d.source} ({d.format}{pages}, {d.n_chunks} chunks)")
    return lines

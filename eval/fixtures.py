"""Hostile files, generated: what ``eval.hostile`` and ``tests/faults`` feed to ``rag ingest``.

Each ``Fixture`` writes itself into a folder and says what the report must show for it
(status and a word of the reason). Nothing here is downloaded; the bombs are built in a
second from repeated compressed blocks. ``SECRET`` is written outside the corpus: the
links and external entities point at it, and it must never reach the index.
"""

from __future__ import annotations

import io
import os
import socket
import stat
import struct
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

SECRET = "motdepasse-hors-corpus-7f3a"  # the content of the file outside the corpus
GOOD = "good.txt"
GOOD_TEXT = "Le fournil ouvre à sept heures ; la baguette de tradition coûte un euro vingt."


@dataclass(frozen=True)
class Fixture:
    name: str  # the file's name in the report (escaped as the report shows it)
    why: str  # what it is, for the table
    status: str  # expected status: "failed", "skipped" or "added"
    word: str  # expected in the reason ("" for an added file)
    write: Callable[[Path, Path], None]  # write(folder, secret_path)
    needs_root: bool = False


def zip_bytes(parts: dict[str, bytes], bomb: tuple[str, int] | None = None) -> bytes:
    """A zip of ``parts`` (deflated) and, with ``bomb=(name, size)``, a part of ``size``
    spaces built from one compressed block repeated (no gigabyte is ever held or deflated)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    if bomb is None:
        return out.getvalue()
    return _append_bomb(out.getvalue(), *bomb)


def _append_bomb(archive: bytes, name: str, size: int) -> bytes:
    block = b" " * (1 << 20)
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    piece = compressor.compress(block) + compressor.flush(zlib.Z_FULL_FLUSH)
    count, rest = divmod(size, len(block))
    tail = zlib.compressobj(9, zlib.DEFLATED, -15)
    stream = piece * count + tail.compress(b" " * rest) + tail.flush()
    crc = 0
    for _ in range(count):
        crc = zlib.crc32(block, crc)
    crc = zlib.crc32(b" " * rest, crc)
    # Rewrite the archive: its entries, then the bomb's, then one central directory for all.
    source = zipfile.ZipFile(io.BytesIO(archive))
    end = archive.rfind(b"PK\x05\x06")
    (cd_offset,) = struct.unpack("<I", archive[end + 16 : end + 20])
    body, central = archive[:cd_offset], archive[cd_offset:end]
    encoded = name.encode()
    local = struct.pack("<4s5H3I2H", b"PK\x03\x04", 20, 0, 8, 0, 0, crc, len(stream), size, len(encoded), 0)
    entry = struct.pack(
        "<4s6H3I5H2I", b"PK\x01\x02", 20, 20, 0, 8, 0, 0, crc, len(stream), size, len(encoded), 0, 0, 0, 0, 0, len(body)
    )
    members = len(source.infolist()) + 1
    body = body + local + encoded + stream
    central = central + entry + encoded
    tail_record = struct.pack("<4s4H2IH", b"PK\x05\x06", 0, 0, members, members, len(central), len(body), 0)
    return body + central + tail_record


DOCX_TYPES = (
    b'<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    b'<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    b'<Default Extension="xml" ContentType="application/xml"/>'
    b'<Override PartName="/word/document.xml" '
    b'ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>'
)
DOCX_RELS = (
    b'<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    b'<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/'
    b'officeDocument" Target="word/document.xml"/></Relationships>'
)


def docx(body_xml: str, doctype: str = "") -> bytes:
    """A minimal .docx whose document.xml holds ``body_xml`` (paragraphs), after ``doctype``."""
    document = (
        f'<?xml version="1.0" encoding="UTF-8"?>{doctype}'
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        f"<w:body>{body_xml}</w:body></w:document>"
    )
    return zip_bytes(
        {"[Content_Types].xml": DOCX_TYPES, "_rels/.rels": DOCX_RELS, "word/document.xml": document.encode()}
    )


def _paragraph(text: str) -> str:
    return f"<w:p><w:r><w:t>{text}</w:t></w:r></w:p>"


def _bomb(fmt: str, size: int) -> Callable[[Path, Path], None]:
    part = {
        "docx": "word/document.xml",
        "odt": "content.xml",
        "epub": "OEBPS/chapter.xhtml",
        "xlsx": "xl/worksheets/sheet1.xml",
        "pptx": "ppt/slides/slide1.xml",
    }[fmt]
    parts = {"mimetype": b"application/vnd.oasis.opendocument.text"} if fmt == "odt" else {}
    if fmt == "docx":
        parts = {"[Content_Types].xml": DOCX_TYPES, "_rels/.rels": DOCX_RELS}
    return lambda folder, secret: (folder / f"bombe-{size >> 20}M.{fmt}").write_bytes(zip_bytes(parts, (part, size)))


def _xxe(folder: Path, secret: Path) -> None:
    doctype = f'<!DOCTYPE w:document [<!ENTITY x SYSTEM "file://{secret}">]>'
    (folder / "xxe.docx").write_bytes(docx(_paragraph("Avant &x; après, une entité externe."), doctype))


def _laughs(folder: Path, secret: Path) -> None:
    entities = '<!ENTITY a "hahahahahahahahahaha">' + "".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(9)
    )
    (folder / "laughs.docx").write_bytes(docx(_paragraph("Rire : &j;"), f"<!DOCTYPE w:document [{entities}]>"))


def _xxe_html(folder: Path, secret: Path) -> None:
    page = (
        f'<!DOCTYPE html [<!ENTITY x SYSTEM "file://{secret}">]><html><body>'
        "<h1>Entité</h1><p>Une page avec une entité externe : &x; fin.</p></body></html>"
    )
    (folder / "xxe.html").write_text(page, encoding="utf-8")


def _xxe_epub(folder: Path, secret: Path) -> None:
    container = (
        b'<?xml version="1.0"?><container xmlns="urn:oasis:names:tc:opendocument:xmlns:container" version="1.0">'
        b'<rootfiles><rootfile full-path="content.opf" media-type="application/oebps-package+xml"/></rootfiles>'
        b"</container>"
    )
    opf = (
        f'<?xml version="1.0"?><!DOCTYPE package [<!ENTITY x SYSTEM "file://{secret}">]>'
        '<package xmlns="http://www.idpf.org/2007/opf" version="3.0"><metadata><title>&x;</title></metadata>'
        '<manifest><item id="c" href="c.xhtml" media-type="application/xhtml+xml"/></manifest>'
        '<spine><itemref idref="c"/></spine></package>'
    ).encode()
    chapter = (
        f'<?xml version="1.0"?><!DOCTYPE html [<!ENTITY x SYSTEM "file://{secret}">]>'
        '<html xmlns="http://www.w3.org/1999/xhtml"><body><p>Chapitre : &x; fin.</p></body></html>'
    ).encode()
    parts = {"mimetype": b"application/epub+zip", "META-INF/container.xml": container}
    parts |= {"content.opf": opf, "c.xhtml": chapter}
    (folder / "xxe.epub").write_bytes(zip_bytes(parts))


def _page_bomb(depth: int = 18) -> bytes:
    """A 2 KB PDF whose page tree names the same subtree twice at every level: 2**depth
    pages, each to extract (a PDF that "takes forever" for any reader that believes it)."""
    objects = {1: "<< /Type /Catalog /Pages 2 0 R >>"}
    nodes = list(range(2, depth + 2))
    leaf, content, font = depth + 2, depth + 3, depth + 4
    for i, number in enumerate(nodes):
        child = nodes[i + 1] if i + 1 < len(nodes) else leaf
        objects[number] = f"<< /Type /Pages /Kids [{child} 0 R {child} 0 R] /Count {2 ** (depth - i)} >>"
    objects[leaf] = (
        f"<< /Type /Page /MediaBox [0 0 200 200] /Contents {content} 0 R /Resources << /Font << /F1 {font} 0 R >> >> >>"
    )
    objects[font] = "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"
    stream = b"BT /F1 12 Tf 20 100 Td (Une page sans fin) Tj ET"
    out = bytearray(b"%PDF-1.4\n")
    offsets = {}
    for number in sorted([*objects, content]):
        offsets[number] = len(out)
        if number == content:
            out += f"{number} 0 obj\n<< /Length {len(stream)} >>\nstream\n".encode() + stream + b"\nendstream\nendobj\n"
        else:
            out += f"{number} 0 obj\n{objects[number]}\nendobj\n".encode()
    xref = len(out)
    out += f"xref\n0 {font + 1}\n0000000000 65535 f \n".encode()
    out += b"".join(f"{offsets[n]:010d} 00000 n \n".encode() for n in range(1, font + 1))
    out += f"trailer\n<< /Size {font + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n".encode()
    return bytes(out)


def _small_pdf() -> bytes:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _encrypted_pdf(folder: Path, secret: Path) -> None:
    from pypdf import PdfWriter

    writer = PdfWriter()
    writer.add_blank_page(200, 200)
    writer.encrypt("secret")
    with open(folder / "chiffre.pdf", "wb") as handle:
        writer.write(handle)


def _socket(folder: Path, secret: Path) -> None:
    server = socket.socket(socket.AF_UNIX)
    server.bind(str(folder / "prise.txt"))  # the socket file stays after close
    server.close()


def _mostly_utf8(folder: Path, secret: Path) -> None:
    text = "Démystifier la fermentation : le levain « chef » se nourrit de farine. " * 20
    data = text.encode("utf-8")
    (folder / "presque-utf8.txt").write_bytes(data[:100] + b"\xff\xfe" + data[100:200] + b"\x92" + data[200:])


def _write(name: str, data: bytes | str) -> Callable[[Path, Path], None]:
    raw = data.encode() if isinstance(data, str) else data
    return lambda folder, secret: (folder / os.fsdecode(name.encode("utf-8", "surrogateescape"))).write_bytes(raw)


def fixtures(bomb_mb: int = 128) -> list[Fixture]:
    """Every hostile case; ``bomb_mb``: the size of the zip bombs' part once decompressed."""
    size = bomb_mb << 20
    bombs = [
        Fixture(
            f"bombe-{bomb_mb}M.{fmt}",
            f"zip bomb ({fmt}, {bomb_mb} MiB inflated)",
            "failed",
            "zip bomb",
            _bomb(fmt, size),
        )
        for fmt in ("docx", "odt", "epub", "xlsx", "pptx")
    ]
    # 20,000 deep: far past any recursion limit, and read in about a second (100,000 took 4-5 s
    # here, near the 5 s limit the suite runs with, and timed out on a loaded CI machine).
    deep = "<html><body>" + "<div>" * 20_000 + "profond" + "</div>" * 20_000 + "</body></html>"
    return [
        Fixture("octets_\\xff.txt", "file name not UTF-8", "failed", "UTF-8", _write("octets_\udcff.txt", GOOD_TEXT)),
        Fixture("ligne\\nneuve.txt", "file name with a newline", "failed", "control", _write("ligne\nneuve.txt", "x")),
        *bombs,
        Fixture("xxe.docx", "XML external entity (docx)", "added", "", _xxe),
        Fixture("laughs.docx", "entity expansion (billion laughs)", "failed", "", _laughs),
        Fixture("xxe.html", "external entity in HTML", "added", "", _xxe_html),
        Fixture("xxe.epub", "XML external entity (epub)", "failed", "entity", _xxe_epub),
        Fixture(
            "tronque.pdf",
            "truncated PDF",
            "failed",
            "",
            lambda f, s: (f / "tronque.pdf").write_bytes(_small_pdf()[:300]),
        ),
        Fixture("chiffre.pdf", "encrypted PDF", "failed", "encrypted", _encrypted_pdf),
        Fixture("nul.pdf", "PDF of NUL bytes", "failed", "", _write("nul.pdf", b"%PDF-1.4\n" + b"\0" * 4096)),
        Fixture(
            "sans-fin.pdf",
            "page-tree bomb (262,144 pages)",
            "failed",
            "longer than",
            _write("sans-fin.pdf", _page_bomb()),
        ),
        Fixture("profond.html", "HTML nested 20,000 deep", "added", "", _write("profond.html", deep)),
        Fixture("nul.txt", "NUL bytes", "failed", "binary", _write("nul.txt", b"texte\0\0\0" * 100)),
        Fixture("tube.txt", "FIFO", "skipped", "not a regular file", lambda f, s: os.mkfifo(f / "tube.txt")),
        Fixture("prise.txt", "socket", "skipped", "not a regular file", _socket),
        Fixture(
            "zero.txt",
            "device file (/dev/zero)",
            "skipped",
            "not a regular file",
            lambda f, s: os.mknod(f / "zero.txt", stat.S_IFCHR | 0o644, os.makedev(1, 5)),
            needs_root=True,
        ),  # fmt: skip
        Fixture(
            "passwd.txt",
            "symlink to /etc/passwd",
            "skipped",
            "outside",
            lambda f, s: os.symlink("/etc/passwd", f / "passwd.txt"),
        ),
        Fixture("etc", "symlink to /etc", "skipped", "outside", lambda f, s: os.symlink("/etc", f / "etc")),
        Fixture(
            "secret.txt",
            "symlink to a file outside",
            "skipped",
            "outside",
            lambda f, s: os.symlink(s, f / "secret.txt"),
        ),
        Fixture("boucle", "symlink loop (folder)", "skipped", "loop", lambda f, s: os.symlink(".", f / "boucle")),
        Fixture("moi.txt", "symlink to itself", "failed", "loop", lambda f, s: os.symlink("moi.txt", f / "moi.txt")),
        Fixture("illisible.txt", "unreadable (mode 000)", "failed", "permission", _unreadable),
        Fixture("presque-utf8.txt", "UTF-8 with 3 bad bytes", "added", "replaced", _mostly_utf8),
        Fixture("vide.md", "empty file", "skipped", "empty", _write("vide.md", b"")),
    ]


def _unreadable(folder: Path, secret: Path) -> None:
    path = folder / "illisible.txt"
    path.write_text("Personne ne doit lire ceci.", encoding="utf-8")
    path.chmod(0)


def write_corpus(folder: Path, secret: Path, cases: list[Fixture]) -> list[Fixture]:
    """Write ``cases``, the good file and the secret; returns the cases written (a device
    file needs root: skipped otherwise)."""
    folder.mkdir(parents=True, exist_ok=True)
    secret.write_text(f"{SECRET} root:x:0:0\n", encoding="utf-8")
    (folder / GOOD).write_text(GOOD_TEXT, encoding="utf-8")
    written = []
    for case in cases:
        if case.needs_root and os.geteuid() != 0:
            continue
        case.write(folder, secret)
        written.append(case)
    return written

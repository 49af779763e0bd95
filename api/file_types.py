"""What an uploaded file really is, from its content (magic bytes), never from the client's Content-Type or
name: `evil.html` sent as text/plain, an SVG sent as image/png or a macro document are refused whatever they
claim. `puremagic` identifies the binary formats; Office files are opened to tell a Word document from a
spreadsheet and to refuse macros; plain text is text only if it is UTF-8 with no markup.

The file is then named from its checked type (`safe_filename`): the client's stem without control or
bidirectional-override characters, and the extension of what the content is.
"""

from __future__ import annotations

import io
import re
import unicodedata
import zipfile
from dataclasses import dataclass

import puremagic

MAX_STEM = 150
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ZIP = b"PK\x03\x04"
# Names in an OLE2 (Word 97) directory are UTF-16: macros live in these storages.
_OLE_MACROS = tuple(name.encode("utf-16-le") for name in ("Macros", "_VBA_PROJECT", "VBA"))
_WORD_STREAM = "WordDocument".encode("utf-16-le")
_MARKUP = re.compile(rb"^\s*<|<\s*(script|svg|html|iframe|object|embed)\b", re.IGNORECASE)
_BY_MAGIC = {
    "application/pdf": ("application/pdf", ".pdf"),
    "image/png": ("image/png", ".png"),
    "image/jpeg": ("image/jpeg", ".jpg"),
    "image/heic": ("image/heic", ".heic"),
    "image/heif": ("image/heic", ".heic"),
}
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"


class RefusedFile(Exception):
    """The content is not one of the accepted kinds (the message says what it is, in plain words)."""


@dataclass(frozen=True)
class CheckedType:
    content_type: str
    extension: str


def checked_type(content: bytes) -> CheckedType:
    """The file's type judged from its content; `RefusedFile` for anything not plainly one of ours."""
    if content.startswith(_ZIP):
        return _office_open_xml(content)
    if content.startswith(_OLE):
        return _word_97(content)
    try:
        matches = puremagic.magic_string(content)
    except puremagic.PureError:
        matches = []
    best = matches[0].mime_type if matches else ""
    if best in _BY_MAGIC:
        return CheckedType(*_BY_MAGIC[best])
    try:
        # Text that happens to look like some rare format's signature is still text (markup never is).
        return _plain_text(content)
    except RefusedFile:
        if best:
            raise RefusedFile(f"the file's content is {best}") from None
        raise


def _office_open_xml(content: bytes) -> CheckedType:
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            names = set(archive.namelist())
            types = archive.read("[Content_Types].xml") if "[Content_Types].xml" in names else b""
    except (zipfile.BadZipFile, KeyError, RuntimeError, ValueError, OSError) as error:
        raise RefusedFile("the file is a damaged or unreadable archive") from error
    if any(name.lower().endswith("vbaproject.bin") for name in names) or b"macroEnabled" in types:
        raise RefusedFile("the document contains macros")
    if "word/document.xml" not in names or not types:
        raise RefusedFile("the file is an archive, not a Word document")
    return CheckedType(DOCX, ".docx")


def _word_97(content: bytes) -> CheckedType:
    if any(marker in content for marker in _OLE_MACROS):
        raise RefusedFile("the document contains macros")
    if _WORD_STREAM not in content:
        raise RefusedFile("the file is an Office file other than a Word document")
    return CheckedType("application/msword", ".doc")


def _plain_text(content: bytes) -> CheckedType:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise RefusedFile("the file's type could not be recognised") from error
    if any(unicodedata.category(char) == "Cc" and char not in "\t\n\r\f" for char in text):
        raise RefusedFile("the file's type could not be recognised")
    if _MARKUP.search(content[:4096]):
        raise RefusedFile("the file is a web page or markup, not plain text")
    return CheckedType("text/plain", ".txt")


def safe_filename(raw: str | None, checked: CheckedType) -> str:
    """The client's name without folders, control, format (bidirectional overrides...) or unassigned
    characters, its own extension replaced by the checked type's: "invoice\u202efdp.exe" as a PDF is
    "invoicefdp.pdf"."""
    name = unicodedata.normalize("NFC", raw or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(char for char in name if unicodedata.category(char) not in ("Cc", "Cf", "Cn", "Co", "Cs"))
    stem = name.strip().lstrip(".")
    if "." in stem:
        stem = stem.rsplit(".", 1)[0]
    stem = stem.strip(" .")[:MAX_STEM] or "attachment"
    return f"{stem}{checked.extension}"

"""An optional virus scan of every upload by a ClamAV daemon (clamd), when CLAMD_ADDRESS is set.

clamd's INSTREAM command over TCP (`host:port`) or a Unix socket (`unix:/path`): the file in chunks, each
with its length as 4 bytes big-endian, then a zero length; clamd answers `stream: OK` or
`stream: <signature> FOUND`. Hand-written (a few lines of a documented protocol) because the Python clamd
clients on PyPI are unmaintained and blocking. A file found infected is refused (422, the signature is not
shown to the sender); a scanner that cannot be reached is a 503 with Retry-After (nothing is stored
unscanned).
"""

from __future__ import annotations

import asyncio
import struct

from api.errors import ProblemError

CHUNK = 64 * 1024
TIMEOUT_SECONDS = 30.0


class ScannerUnavailable(Exception):
    pass


async def _open(address: str) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    if address.startswith("unix:"):
        return await asyncio.open_unix_connection(address.removeprefix("unix:"))
    host, _, port = address.rpartition(":")
    return await asyncio.open_connection(host or "127.0.0.1", int(port))


async def scan(address: str, content: bytes) -> str | None:
    """The signature clamd found in `content`, or None when it is clean; `ScannerUnavailable` otherwise."""
    try:
        async with asyncio.timeout(TIMEOUT_SECONDS):
            reader, writer = await _open(address)
            try:
                writer.write(b"zINSTREAM\0")
                for start in range(0, len(content), CHUNK):
                    chunk = content[start : start + CHUNK]
                    writer.write(struct.pack("!L", len(chunk)) + chunk)
                writer.write(struct.pack("!L", 0))
                await writer.drain()
                answer = (await reader.read(4096)).rstrip(b"\0\n").decode("utf-8", "replace")
            finally:
                writer.close()
    except (OSError, TimeoutError, ValueError) as error:
        raise ScannerUnavailable(str(error)) from error
    if answer.endswith("FOUND"):
        return answer.removeprefix("stream:").removesuffix("FOUND").strip()
    if answer.endswith("OK"):
        return None
    raise ScannerUnavailable(f"unexpected answer from clamd: {answer[:100]!r}")


# The refusal's detail, by which the resident's evidence form tells it from an empty file (also a 422).
INFECTED_DETAIL = "file: the virus scanner refused this file"


async def refuse_if_infected(address: str | None, content: bytes) -> None:
    if not address:
        return
    try:
        found = await scan(address, content)
    except ScannerUnavailable as error:
        raise ProblemError(
            503, "Service unavailable", "the virus scanner did not answer: try again shortly"
        ) from error
    if found is not None:
        raise ProblemError(422, "Invalid request", INFECTED_DETAIL)

"""Reading an answer's body: `identity` encoding only (a compressed body never inflates here), up to a cap."""

from collections.abc import Mapping

from urllib3.response import BaseHTTPResponse

from personal.transport.errors import BodyTooLarge, UnexpectedEncoding

READ_CHUNK_BYTES = 64 * 1024


def check_encoding(headers: Mapping[str, str]) -> None:
    encoding = headers.get("Content-Encoding", "identity").strip().lower()
    if encoding not in ("", "identity"):
        raise UnexpectedEncoding(encoding[:32])


def read_capped(raw: BaseHTTPResponse, headers: Mapping[str, str], *, max_bytes: int) -> bytes:
    """The whole body, refused (BodyTooLarge) as soon as it is declared or read past `max_bytes`."""
    check_encoding(headers)
    declared = headers.get("Content-Length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise BodyTooLarge(f"declared {declared} bytes")
    chunks, size = [], 0
    while chunk := raw.read(READ_CHUNK_BYTES, decode_content=False):
        size += len(chunk)
        if size > max_bytes:
            raise BodyTooLarge(f"over {max_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)

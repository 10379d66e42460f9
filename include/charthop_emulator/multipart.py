"""A small multipart/form-data parser (RFC 7578) that keeps each part's bytes exactly as sent."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message


class MultipartError(ValueError):
    """A body that is not valid multipart/form-data."""


@dataclass(frozen=True, slots=True)
class Part:
    """One form field: its name, the file name if any, its content type and its raw bytes."""

    name: str
    filename: str | None
    content_type: str | None
    data: bytes


def _header_params(name: str, value: str) -> Message:
    message = Message()
    message[name] = value
    return message


def parse_form(content_type: str, body: bytes) -> dict[str, Part]:
    """Split a multipart/form-data body into its parts by name (the first part of each name wins).

    :raises MultipartError: when the content type is not multipart/form-data with a boundary, or the
        body does not follow it.
    """
    header = _header_params("Content-Type", content_type)
    if header.get_content_type() != "multipart/form-data":
        raise MultipartError(f"expected Content-Type multipart/form-data, got {content_type or 'none'!r}")
    boundary = header.get_param("boundary")
    if not isinstance(boundary, str) or not boundary:
        raise MultipartError("the multipart/form-data Content-Type has no boundary")
    delimiter = b"--" + boundary.encode("latin-1")
    sections = body.split(delimiter)
    if len(sections) < 2 or not sections[-1].startswith(b"--"):
        raise MultipartError("the multipart body does not end with its closing boundary")

    parts: dict[str, Part] = {}
    for section in sections[1:-1]:
        section = section.removeprefix(b"\r\n") if section.startswith(b"\r\n") else section.removeprefix(b"\n")
        head, separator, content = section.partition(b"\r\n\r\n")
        if not separator:
            head, separator, content = section.partition(b"\n\n")
        if not separator:
            raise MultipartError("a multipart part has no blank line after its headers")
        content = content.removesuffix(b"\r\n") if content.endswith(b"\r\n") else content.removesuffix(b"\n")
        headers: dict[str, str] = {}
        for line in head.decode("utf-8", "replace").splitlines():
            key, _, value = line.partition(":")
            headers[key.strip().lower()] = value.strip()
        disposition = _header_params("Content-Disposition", headers.get("content-disposition", ""))
        name = disposition.get_param("name", header="content-disposition")
        if not isinstance(name, str):
            raise MultipartError("a multipart part has no Content-Disposition name")
        filename = disposition.get_param("filename", header="content-disposition")
        parts.setdefault(name, Part(name=name, filename=filename if isinstance(filename, str) else None,
                                    content_type=headers.get("content-type"), data=content))
    return parts

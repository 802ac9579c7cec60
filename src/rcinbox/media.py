"""Media types rcinbox names files after: the extension of a stored attachment comes from this
allowlist (anything else is ``.bin``), never from the payload's file names. The download names
it (:mod:`rcinbox.service.attachments`) and the dashboard offers a database-stored attachment
under it."""

from __future__ import annotations

SUFFIXES: dict[str, str] = {
    "image/jpeg": "jpg",
    "image/jpg": "jpg",
    "image/pjpeg": "jpg",
    "image/png": "png",
    "image/gif": "gif",
    "image/bmp": "bmp",
    "image/tiff": "tiff",
    "image/webp": "webp",
    "image/heic": "heic",
    "image/heif": "heif",
    "video/mp4": "mp4",
    "video/3gpp": "3gp",
    "video/mpeg": "mpeg",
    "video/quicktime": "mov",
    "video/webm": "webm",
    "audio/mpeg": "mp3",
    "audio/mp4": "m4a",
    "audio/amr": "amr",
    "audio/3gpp": "3gp",
    "audio/ogg": "ogg",
    "audio/wav": "wav",
    "text/vcard": "vcf",
    "text/x-vcard": "vcf",
    "text/plain": "txt",
    "text/calendar": "ics",
    "application/pdf": "pdf",
}


def suffix_for(content_type: str) -> str:
    """File extension for a media type from the allowlist; ``bin`` for anything else."""
    return SUFFIXES.get(content_type.split(";", 1)[0].strip().lower(), "bin")

"""Files on disk: random names under ``UPLOAD_DIR`` (a shared volume when scaled out), written
atomically, two levels of fan-out so no directory grows huge. Client names never become paths."""
from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import current_app

THUMB_SIZES = {"small": 320, "large": 960}


def root() -> Path:
    return Path(current_app.config["UPLOAD_DIR"]).resolve()


def new_name(extension: str) -> str:
    """A random storage name; the extension is one of the allow-list's, never the client's text."""
    return f"{secrets.token_hex(16)}.{extension}"


def path_for(stored_name: str, variant: str | None = None) -> Path:
    """Where a file (or one of its thumbnails) lives. Raises if the result would leave the root."""
    stem = stored_name.split(".", 1)[0]
    if not stem.isalnum() or not stem.isascii():
        raise ValueError("not a storage name")
    name = stored_name if variant is None else f"{stem}-{variant}.webp"
    base = root()
    path = (base / stem[:2] / stem[2:4] / name).resolve()
    if base not in path.parents:
        raise ValueError("outside the upload directory")
    return path


def write(stored_name: str, data: bytes, variant: str | None = None) -> Path:
    """Write through a temporary file and rename, so a reader never sees half a file."""
    path = path_for(stored_name, variant)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
    try:
        with open(temporary, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()
    return path


def read(stored_name: str) -> bytes:
    return path_for(stored_name).read_bytes()


def remove(stored_name: str) -> None:
    """The file and every thumbnail; missing files are fine (a half-finished upload)."""
    for variant in (None, *THUMB_SIZES):
        try:
            path_for(stored_name, variant).unlink()
        except FileNotFoundError:
            pass

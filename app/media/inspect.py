"""What an uploaded file really is, decided from its bytes, and the safe copy we keep.

Rules (DESIGN 7, issue "Media"): the type comes from the content (magic bytes) and must match
the extension and the allow-list; SVG, HTML, XML, scripts, archives and polyglots are refused
because they are not on the list or their bytes do not decode as what the name says. Images
are decoded and re-encoded with Pillow: EXIF, GPS, IPTC, XMP and text chunks do not survive,
the orientation is applied, colour profiles are kept, animated GIF/WebP keep their frames (or
become a still when the frames together exceed the pixel budget). The pixel limit is checked
from the header, before any pixel is decoded. PDFs and videos are kept byte for byte (served as
a download, and with range requests, respectively). No database, no Flask: plain functions.
"""
from __future__ import annotations

import io
import re
import unicodedata
import warnings
from dataclasses import dataclass

from PIL import Image, ImageOps, ImageSequence

# extension -> (kind, content type)
ALLOWED = {
    "jpg": ("image", "image/jpeg"), "jpeg": ("image", "image/jpeg"), "png": ("image", "image/png"),
    "webp": ("image", "image/webp"), "gif": ("image", "image/gif"), "pdf": ("document", "application/pdf"),
    "mp4": ("video", "video/mp4"), "webm": ("video", "video/webm"),
}
PILLOW_FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/webp": "WEBP", "image/gif": "GIF"}
EXTENSION_FOR = {"image/jpeg": "jpg", "image/png": "png", "image/webp": "webp", "image/gif": "gif",
                 "application/pdf": "pdf", "video/mp4": "mp4", "video/webm": "webm"}
MP4_BRANDS = re.compile(rb"(iso[2-9m]|isom|mp4[12v]|avc1|M4V |M4VH|dash|mmp4|msnv|f4v )")
NAME_MAX = 255
# Characters a name may never contain: path parts, NUL and controls, NTFS streams, bidi tricks.
_BIDI = {"\u200e", "\u200f", "\u061c"} | {chr(c) for c in range(0x202A, 0x202F)} | {chr(c) for c in range(0x2066, 0x206A)}
_FORBIDDEN = set("/\\:") | _BIDI


class Refused(ValueError):
    """An upload we do not keep; ``status`` is the HTTP answer (400, 413 or 415)."""

    def __init__(self, message: str, status: int = 400):
        super().__init__(message)
        self.message, self.status = message, status


@dataclass(frozen=True)
class Limits:
    max_bytes: int
    max_pixels: int  # one frame
    max_total_pixels: int  # all frames of an animation together


@dataclass
class Accepted:
    kind: str
    content_type: str
    extension: str
    data: bytes  # what we store: re-encoded for images, as sent otherwise
    width: int | None = None
    height: int | None = None
    frames: int = 1


def check_name(name: str | None) -> str:
    """The name as text to show back, or a refusal for names that try to be paths or hide their
    real extension. The name never becomes a path: storage names are random."""
    if not name or not name.strip():
        raise Refused("The file has no name. Choose a file and try again.")
    if len(name) > NAME_MAX:
        raise Refused(f"The file name is longer than {NAME_MAX} characters. Rename the file and try again.")
    if any(ch in _FORBIDDEN or unicodedata.category(ch) == "Cc" for ch in name):
        raise Refused("The file name contains a slash, a colon, a control or a text-direction character. "
                      "Rename the file and try again.")
    if name.startswith(".") or name.rstrip() != name or name.endswith("."):
        raise Refused("The file name starts or ends with a dot or a space. Rename the file and try again.")
    return name


def extension_of(name: str) -> str:
    """The final extension, lower-cased; a double extension counts by its last part only."""
    base, dot, ext = name.rpartition(".")
    return ext.lower() if dot and base else ""


def sniff(head: bytes) -> str | None:
    """The content type the first bytes prove, from our allow-list only."""
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head[:6] in (b"GIF87a", b"GIF89a"):
        return "image/gif"
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    if head[4:8] == b"ftyp" and MP4_BRANDS.match(head[8:12]):
        return "video/mp4"
    if head.startswith(b"\x1a\x45\xdf\xa3") and b"webm" in head[:64]:
        return "video/webm"
    return None


def inspect(name: str, data: bytes, limits: Limits) -> Accepted:
    """Accept (and for images, rebuild) one upload, or raise ``Refused`` with a reason."""
    check_name(name)
    if len(data) > limits.max_bytes:
        raise Refused(f"The file is larger than {limits.max_bytes // (1024 * 1024)} MB.", 413)
    extension = extension_of(name)
    if extension not in ALLOWED:
        allowed = ", ".join(sorted({e.upper() for e in ALLOWED} - {"JPEG"}))
        raise Refused(f"Files of this type cannot be uploaded. Allowed: {allowed}.", 415)
    if not data:
        raise Refused("The file is empty.")
    kind, content_type = ALLOWED[extension]
    found = sniff(data[:64])
    if found != content_type:
        raise Refused(f"The file's content is not {extension.upper()}: its name and its content do not match.", 415)
    if kind != "image":
        return Accepted(kind, content_type, extension, data)
    return _reencode(content_type, extension, data, limits)


def image_size(data: bytes) -> tuple[int, int, int]:
    """Width, height and frame count from the header alone (nothing decoded)."""
    with warnings.catch_warnings():
        warnings.simplefilter("error", Image.DecompressionBombWarning)
        with Image.open(io.BytesIO(data)) as im:
            return im.width, im.height, getattr(im, "n_frames", 1)


def _reencode(content_type: str, extension: str, data: bytes, limits: Limits) -> Accepted:
    expected = PILLOW_FORMATS[content_type]
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb guard warns (and above twice its limit raises) on open; ours below
            # is stricter and gives the person a reason, so the warning is not needed.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[expected]) as im:
                width, height, frames = im.width, im.height, getattr(im, "n_frames", 1)
                if width * height > limits.max_pixels:
                    raise Refused(f"The image is {width} × {height} pixels: more than the "
                                  f"{limits.max_pixels // 1_000_000} megapixels we accept. Make it smaller and try again.")
                if width < 1 or height < 1:
                    raise Refused("The image has no pixels.")
                animated = frames > 1 and width * height * frames <= limits.max_total_pixels
                out = io.BytesIO()
                if animated:
                    _save_animation(im, expected, out)
                else:
                    im.seek(0)
                    _save_still(im, expected, out)
                if not animated:
                    frames = 1
    except Refused:
        raise
    except Image.DecompressionBombError:
        raise Refused(f"The image has more than {limits.max_pixels // 1_000_000} megapixels. "
                      "Make it smaller and try again.") from None
    except (OSError, SyntaxError, ValueError, EOFError, Image.UnidentifiedImageError, MemoryError):
        raise Refused(f"This {extension.upper()} image could not be read: it may be damaged or not an image.", 415) from None
    result = out.getvalue()
    with Image.open(io.BytesIO(result)) as check:
        width, height = check.size
    return Accepted("image", content_type, extension, result, width, height, frames)


def _save_still(im: Image.Image, fmt: str, out) -> None:
    icc = im.info.get("icc_profile")
    still = ImageOps.exif_transpose(im)  # the orientation, applied; the tag itself is gone
    still.load()
    still.info.pop("comment", None)  # JPEG COM / GIF comment: text someone wrote, never kept
    if fmt == "JPEG":
        if still.mode not in ("RGB", "L", "CMYK"):
            still = still.convert("RGB")
        still.save(out, "JPEG", quality=90, optimize=True, **({"icc_profile": icc} if icc else {}))
    elif fmt == "PNG":
        still.save(out, "PNG", optimize=False, **({"icc_profile": icc} if icc else {}))
    elif fmt == "WEBP":
        if still.mode not in ("RGB", "RGBA"):
            still = still.convert("RGBA" if "A" in still.getbands() or "transparency" in still.info else "RGB")
        still.save(out, "WEBP", quality=90, **({"icc_profile": icc} if icc else {}))
    else:  # GIF
        still.save(out, "GIF")


def _save_animation(im: Image.Image, fmt: str, out) -> None:
    frames, durations = [], []
    for frame in ImageSequence.Iterator(im):
        durations.append(frame.info.get("duration", 100))
        frames.append(frame.convert("RGBA"))
        frames[-1].info.pop("comment", None)  # GIF comment extensions are not kept either
    options = dict(save_all=True, append_images=frames[1:], duration=durations, loop=im.info.get("loop", 0))
    if fmt == "GIF":
        frames[0].save(out, "GIF", disposal=2, **options)
    else:
        frames[0].save(out, "WEBP", quality=85, **options)


def thumbnail(data: bytes, box: int) -> bytes:
    """A still WebP that fits in ``box`` × ``box``, from the stored (already clean) image."""
    with Image.open(io.BytesIO(data)) as im:
        im.seek(0)
        still = im.convert("RGBA" if "A" in im.getbands() or "transparency" in im.info else "RGB")
        still.thumbnail((box, box))
        out = io.BytesIO()
        still.save(out, "WEBP", quality=80)
        return out.getvalue()

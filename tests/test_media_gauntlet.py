"""The upload gauntlet (DESIGN 7 "Uploads", DESIGN 8 "adversarial corpora ... through the upload route").

Every sample of ``tests/data/upload_samples_patt.json`` and every case of
``tests/data/upload_attack_cases.json`` goes through ``POST /api/media`` with the outcome its
``expected_handling`` names; then the things re-encoding must guarantee (no metadata, GPS gone,
orientation applied, frames kept or flattened, colour profile kept), the pixel bomb under a stated
memory bound, and the Big List of Naughty Strings as titles, alt texts and file names.

Uploads are sent as a browser would, multipart, but with the file name in RFC 5987 form
(``filename*=UTF-8''...``) so the server receives *exactly* the name under test (the test
client's own encoder drops quotes and backslashes; Werkzeug decodes ``filename*``). Every refusal
is checked for: its status, a JSON error with a message, no ``Media`` row, and no file anywhere
under ``UPLOAD_DIR``.
"""
from __future__ import annotations

import base64
import io
import json
import os
import struct
import sys
import time
import tracemalloc
import uuid
import zlib
from pathlib import Path
from urllib.parse import quote

import pytest
from markupsafe import escape
from PIL import Image, ImageCms

from app.media.models import Media
from tests.factories import BLNS, DATA, browser, count, fetch, person, text, token

SAMPLES = json.loads((DATA / "upload_samples_patt.json").read_text(encoding="utf-8"))["samples"]
CASES = json.loads((DATA / "upload_attack_cases.json").read_text(encoding="utf-8"))["cases"]

# ---------------------------------------------------------------------------------------------
# Helpers shared with tests/test_media_access.py and tests/e2e/test_media_journey.py
# ---------------------------------------------------------------------------------------------


def png(width=12, height=8, color=(200, 30, 30), mode="RGB", **save) -> bytes:
    out = io.BytesIO()
    Image.new(mode, (width, height), color).save(out, "PNG", **save)
    return out.getvalue()


def jpeg(width=12, height=8, color=(30, 120, 200), **save) -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), color).save(out, "JPEG", **save)
    return out.getvalue()


def gif(frames=3, size=10) -> bytes:
    colors = [(255, 0, 0), (0, 255, 0), (0, 0, 255), (255, 255, 0), (0, 255, 255)]
    images = [Image.new("RGB", (size, size), colors[i % len(colors)]) for i in range(frames)]
    out = io.BytesIO()
    images[0].save(out, "GIF", save_all=True, append_images=images[1:], duration=100, loop=0)
    return out.getvalue()


def pdf(label: str = "Slide") -> bytes:
    """A tiny valid one-page PDF (correct xref offsets) showing ``label``."""
    stream = f"BT /F1 24 Tf 72 720 Td ({label}) Tj ET".encode()
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
               b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
               b"/Resources << /Font << /F1 5 0 R >> >> >>",
               b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
               b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def multipart(name: str, data: bytes, content_type: str | None = None, **fields) -> tuple[bytes, str]:
    """A multipart body carrying the file under exactly ``name`` (RFC 5987 ``filename*``) and
    text ``fields`` byte for byte; returns (body, content type header)."""
    boundary = "----oncollab" + uuid.uuid4().hex
    out = bytearray()
    for key, value in fields.items():
        out += f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n'.encode()
        out += str(value).encode("utf-8") + b"\r\n"
    out += (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="upload"; '
            f"filename*=UTF-8''{quote(name, safe='')}\r\n"
            f"Content-Type: {content_type or 'application/octet-stream'}\r\n\r\n").encode()
    out += data + f"\r\n--{boundary}--\r\n".encode()
    return bytes(out), f"multipart/form-data; boundary={boundary}"


def upload(client, name: str, data: bytes, content_type: str | None = None, **fields):
    """POST /api/media as the site's script does (CSRF header, JSON answer)."""
    body, header = multipart(name, data, content_type, **fields)
    return client.post("/api/media", data=body, content_type=header,
                       headers={"X-CSRFToken": token(client), "Accept": "application/json"})


def uploaded(client, name: str, data: bytes, **fields) -> dict:
    response = upload(client, name, data, **fields)
    assert response.status_code == 201, (name, response.status_code, response.get_data()[:300])
    return response.get_json()


def files_on_disk(app) -> list[Path]:
    """Every file (not directory) under UPLOAD_DIR, hidden temporaries included."""
    root = Path(app.config["UPLOAD_DIR"])
    return sorted(Path(folder, name) for folder, _dirs, names in os.walk(root) for name in names)


def stored_path(app, media_id: int, variant: str | None = None) -> Path:
    from app.media import storage
    with app.app_context():
        return storage.path_for(fetch(app, Media, media_id).stored_name, variant)


def assert_refused(app, response, status: int, what: str = "") -> None:
    """The refusal's status, a JSON error with a message and a reason, and nothing stored."""
    assert response.status_code == status, (what, response.status_code, response.get_data()[:300])
    error = (response.get_json() or {}).get("error") or {}
    assert error.get("message") and error.get("code") == status and error.get("reason"), (what, response.get_data()[:300])
    assert count(app, Media) == 0, f"{what}: a Media row was kept"
    assert files_on_disk(app) == [], f"{what}: files left under UPLOAD_DIR: {files_on_disk(app)}"


# ---------------------------------------------------------------------------------------------
# What a clean image looks like
# ---------------------------------------------------------------------------------------------

# im.info keys that carry no text a person wrote (encoder parameters and the colour profile).
HARMLESS_INFO = {"icc_profile", "dpi", "gamma", "transparency", "jfif", "jfif_version", "jfif_unit",
                 "jfif_density", "progressive", "progression", "adobe", "adobe_transform", "srgb",
                 "duration", "loop", "background", "version", "aspect", "optimize", "extension", "disposal",
                 "chromaticity", "interlace", "timestamp"}
# Bytes the samples' metadata carries (payloads and the chunk/segment names that hold them).
NEEDLES = [b"<script", b"alert", b"<?php", b"system(", b"/etc/passwd", b"root:", b"onload", b"ONmouseOVER",
           b"xmpmeta", b"Raw profile", b"ImageReady", b"Exif\x00\x00", b"Photoshop 3.0"]


def png_chunks(data: bytes) -> list[bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, at = [], 8
    while at < len(data):
        length, kind = struct.unpack(">I4s", data[at:at + 8])
        chunks.append(kind)
        at += 12 + length
    return chunks


def jpeg_segments(data: bytes) -> list[tuple[int, bytes]]:
    """(marker, first bytes of the payload) of every segment before the image data."""
    assert data[:2] == b"\xff\xd8"
    segments, at = [], 2
    while at < len(data):
        marker = data[at + 1]
        if marker == 0xDA:  # start of scan: metadata comes before it
            break
        length = struct.unpack(">H", data[at + 2:at + 4])[0]
        segments.append((marker, data[at + 4:at + 4 + 14]))
        at += 2 + length
    return segments


def assert_clean_image(data: bytes, what: str) -> Image.Image:
    """Decodes; no EXIF/XMP/IPTC/comment/text chunk in the structure nor in Pillow's view."""
    with Image.open(io.BytesIO(data)) as im:
        im.load()
        assert not (set(im.info) - HARMLESS_INFO), f"{what}: metadata kept: {sorted(set(im.info) - HARMLESS_INFO)}"
        assert len(im.getexif()) == 0, f"{what}: EXIF kept: {dict(im.getexif())}"
        if im.format == "PNG":
            assert not {b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"tIME"} & set(png_chunks(data)), (what, png_chunks(data))
            assert not getattr(im, "text", {}), (what, im.text)
        if im.format == "JPEG":
            kept = [(hex(m), head) for m, head in jpeg_segments(data)
                    if m == 0xE1 or m == 0xED or m == 0xFE or (m == 0xE2 and not head.startswith(b"ICC_PROFILE"))]
            assert not kept, f"{what}: metadata segments kept: {kept}"
        return im


# ---------------------------------------------------------------------------------------------
# 1. The PayloadsAllTheThings samples
# ---------------------------------------------------------------------------------------------

IMAGE_EXTENSIONS = ("jpg", "jpeg", "png")


def sample_status(sample) -> int:
    """Real photos with payloads in their metadata are accepted (re-encoded, metadata gone);
    everything else (SVG, HTML, XML, XHTML, notebooks, ZIP, EICAR text) is off the allow-list."""
    return 201 if sample["name"].rsplit(".", 1)[-1].lower() in IMAGE_EXTENSIONS else 415


ACCEPTED_SAMPLES = [s for s in SAMPLES if sample_status(s) == 201]


def sample_bytes(sample) -> bytes:
    return base64.b64decode(sample["content_b64"])


def test_the_corpora_are_whole():
    assert len(SAMPLES) == 26 and len(CASES) == 43
    assert {s["name"] for s in ACCEPTED_SAMPLES} == {
        "payload_in_all_known_metadata.jpg", "payload_in_all_known_metadata.png",
        "xss_comment_exif_metadata_double_quote.png", "mouseover-xss-ecs.jpeg", "PHP_exif_system.png",
        "imagemagick_CVE-2022-44268_convert_etc_passwd.png"}
    assert {c["id"] for c in CASES} == set(CASE_OUTCOMES)


@pytest.mark.parametrize("sample", SAMPLES, ids=[s["name"] for s in SAMPLES])
def test_sample(app, sample):
    client = browser(app, person(app))
    original = sample_bytes(sample)
    response = upload(client, sample["name"], original, sample["claimed_mime"], alt="A sample picture")
    expected = sample_status(sample)
    if expected != 201:
        # "reject SVG/HTML/XML/unknown types": off the allow-list, whatever the client claims.
        assert_refused(app, response, expected, sample["name"])
        return
    assert response.status_code == 201, response.get_data()[:300]
    item = response.get_json()
    assert item["original_name"] == sample["name"] and item["content_type"].startswith("image/")
    stored = stored_path(app, item["id"]).read_bytes()
    assert stored != original, "accepted only after re-encoding"
    im = assert_clean_image(stored, sample["name"])
    assert (im.width, im.height) == (item["width"], item["height"])
    # The payloads never leave the server, in the file or in its thumbnails.
    served = [client.get(item["url"]).get_data(), client.get(f"/media/{item['id']}/thumb/small").get_data(),
              client.get(f"/media/{item['id']}/thumb/large").get_data()]
    for needle in NEEDLES:
        if needle in original:
            assert needle not in stored, f"{sample['name']}: {needle!r} survived re-encoding"
            for body in served:
                assert needle not in body, f"{sample['name']}: {needle!r} is served"
    if sample["name"].startswith("imagemagick_CVE"):
        # The tEXt "profile" chunk naming /etc/passwd is gone, and no host file came in its place.
        assert b"tEXt" in png_chunks(original) and b"tEXt" not in png_chunks(stored)
        assert b"profile" not in stored and b"root:" not in stored and b"/etc/passwd" not in stored
    # The about page and the JSON never carry metadata either.
    about = text(client.get(f"/media/{item['id']}/about"))
    assert "<script>alert" not in about and "onload=alert" not in about.lower() and "<?php" not in about


# ---------------------------------------------------------------------------------------------
# 2. The attack cases: file names (and client content types) with content chosen per category
# ---------------------------------------------------------------------------------------------

PHP = b"<?php echo 'oncollab upload gauntlet'; ?>\n"  # marks "a script", runs nothing
GIF_PHP = b"GIF89a" + PHP  # magic bytes of a GIF, a script behind them (a polyglot)
ACTIVE = {"text/html": b"<!doctype html><script>alert(1)</script>",
          "image/svg+xml": b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>',
          "application/xhtml+xml": b'<a:script xmlns:a="http://www.w3.org/1999/xhtml">alert(1)</a:script>',
          "text/xml": b"<?xml version='1.0'?><x><script>alert(1)</script></x>"}
EICAR = base64.b64decode(next(s for s in SAMPLES if s["name"] == "eicar.txt")["content_b64"])


def zip_bytes() -> bytes:
    import zipfile
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("zeros.bin", b"\0" * 1_000_000)  # 1 MB of zeros in about 1 kB
    return out.getvalue()


def png_header_flood(width: int, height: int, *, rows: int = 0) -> bytes:
    """A valid PNG signature + IHDR of ``width`` x ``height`` RGB, and an IDAT holding ``rows``
    rows of zeros (0: one empty zlib stream). Built row by row: the test never holds the pixels."""
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    compressor, parts = zlib.compressobj(9), []
    row = b"\0" * (1 + 3 * width)  # filter byte + RGB
    for _ in range(rows):
        parts.append(compressor.compress(row))
    parts.append(compressor.flush())
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", b"".join(parts)) + chunk(b"IEND", b""))


# case id -> (content, expected status). Names come from the corpus unchanged.
#  * 400: the name itself is refused (NUL/control/bidi characters, slash, backslash, colon,
#    leading dot, trailing dot or space), whatever the content: a valid image proves it.
#  * 415: the final, lower-cased extension is off the allow-list, or the content does not sniff
#    as what the extension says (a script behind a .jpg/.gif name, a GIF-magic polyglot).
#  * 201: harmless names that only look scary; a valid PNG, kept under a random storage name,
#    the name shown back as escaped text.
CASE_OUTCOMES = {
    1: (PHP, 415), 2: (PHP, 415), 3: (PHP, 415),
    4: (PHP, 415), 5: (PHP, 415), 6: (PHP, 415),
    7: (PHP, 415), 8: (png(), 400), 9: (PHP, 415),  # a literal "%00" is not a NUL: the .gif/.jpg sniff refuses
    10: (png(), 400), 11: (PHP, 415), 12: (PHP, 415), 13: (PHP, 415), 14: (png(), 400), 15: (png(), 400),
    16: (png(), 400),
    17: (jpeg(), 400), 18: (b"hello\n", 415), 19: (jpeg(), 400),
    20: (png(), 400), 21: (png(), 400), 22: (png(), 400),
    23: (png(), 201), 24: (png(), 201), 25: (png(), 201),
    26: (GIF_PHP, 415), 27: (b"\x89PNG\r\n\x1a\n" + PHP, 415), 28: (b"\xff\xd8\xff\xe0" + PHP, 415),
    29: (ACTIVE["text/html"], 415), 30: (ACTIVE["image/svg+xml"], 415), 31: (ACTIVE["application/xhtml+xml"], 415),
    32: (ACTIVE["text/xml"], 415),
    33: (GIF_PHP, 415),
    34: (b"Options +ExecCGI\nAddHandler cgi-script .png\n", 400), 35: (b"<configuration/>\n", 415),
    36: (b"[uwsgi]\n", 415), 37: (b"print('imported')\n", 415), 38: (b"import os\n", 415),
    39: (zip_bytes(), 415),
    40: (png_header_flood(100_000, 100_000), 400),  # 10 gigapixels in the header, 100 bytes on the wire
    41: (None, 413),  # built in the test: one byte over a lowered MEDIA_MAX_BYTES
    42: (b"", 400),
    43: (EICAR, 415),  # no AV hook: text is off the allow-list, so it is not stored at all
}


def case_id(case) -> str:
    return f"{case['id']:02d}-{case['category'].replace(' ', '_')}-{case['filename']!r}"


@pytest.mark.parametrize("case", CASES, ids=[case_id(c) for c in CASES])
def test_attack_case(app_factory, case):
    content, status = CASE_OUTCOMES[case["id"]]
    app = app_factory(MEDIA_MAX_BYTES=64 * 1024) if case["category"] == "oversize" else app_factory()
    client = browser(app, person(app))
    if content is None:
        content = b"\0" * (64 * 1024 + 1)
    started = time.monotonic()
    response = upload(client, case["filename"], content, case["content_type"], alt="An image")
    elapsed = time.monotonic() - started
    if status != 201:
        assert_refused(app, response, status, case["filename"])
        if case["category"] == "image bomb":
            assert "megapixels" in response.get_json()["error"]["message"]
        if case["category"] == "oversize":
            assert "larger than" in response.get_json()["error"]["message"]
        return
    # Accepted: the name is display text only, exactly as sent, escaped on every page.
    assert response.status_code == 201, response.get_data()[:300]
    assert elapsed < 5, f"{case['filename']!r}: {elapsed:.1f} s (SQL sleep() or a shell ran?)"
    item = response.get_json()
    name = case["filename"]
    assert item["original_name"] == name
    path = stored_path(app, item["id"])
    root = Path(app.config["UPLOAD_DIR"]).resolve()
    assert root in path.parents and path.exists() and name not in str(path)
    assert path.stem.isalnum() and len(path.stem) == 32 and path.suffix == ".png"
    assert files_on_disk(app) and all(root in p.resolve().parents for p in files_on_disk(app))
    assert fetch(app, Media, item["id"]).original_name == name
    for url, shown in ((f"/media/{item['id']}/about", name), ("/media", name.rpartition(".")[0])):
        page = text(client.get(url))
        assert str(escape(shown)) in page, f"{url} does not show {shown!r} escaped"
        if "<" in shown:
            assert shown not in page, f"{url} shows {shown!r} unescaped"
    assert client.get(item["url"]).status_code == 200
    assert fetch(app, Media, item["id"]).title == name.rpartition(".")[0]


def test_a_valid_jpeg_named_shell_php_jpg_is_just_a_photo(app):
    """The other half of case 3: a real JPEG whose name contains ".php." is accepted, stored
    under a random ``.jpg`` name (the client's name never becomes a path) and served as a JPEG."""
    client = browser(app, person(app))
    item = uploaded(client, "shell.php.jpg", jpeg(), alt="A photo")
    path = stored_path(app, item["id"])
    assert path.suffix == ".jpg" and "php" not in path.name
    served = client.get(item["url"])
    assert served.headers["Content-Type"] == "image/jpeg" and served.headers["X-Content-Type-Options"] == "nosniff"


def test_decodable_only_a_gif_magic_polyglot_named_gif_is_refused(app):
    """Case 33's second half: magic bytes alone make no image; the content must decode."""
    client = browser(app, person(app))
    assert_refused(app, upload(client, "shell.gif", GIF_PHP), 415, "shell.gif")
    assert_refused(app, upload(client, "truncated.png", png()[:40]), 415, "truncated.png")


@pytest.mark.parametrize("encoded,decoded", [("shell.php%00.png", "shell.php\x00.png"),
                                             ("myfile%0a.png", "myfile\n.png"),
                                             ("file.php%0d%0a.jpg", "file.php\r\n.jpg")])
def test_percent_encoded_names_are_validated_after_decoding(app, encoded, decoded):
    """Cases 7, 12, 18 the way RFC 5987 carries them: the multipart parser decodes the name,
    and the decoded name (with its NUL or line break) is what is refused."""
    client = browser(app, person(app))
    boundary = "b" + uuid.uuid4().hex
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="x"; '
            f"filename*=UTF-8''{encoded}\r\nContent-Type: image/png\r\n\r\n").encode() + png() + \
        f"\r\n--{boundary}--\r\n".encode()
    response = client.post("/api/media", data=body, content_type=f"multipart/form-data; boundary={boundary}",
                           headers={"X-CSRFToken": token(client)})
    assert_refused(app, response, 400, repr(decoded))


def test_oversize_bodies_are_refused_at_the_door(app_factory):
    """Case 41 both ways: a file just over MEDIA_MAX_BYTES (read, then refused) and a body far
    over it (refused by the request limit before it is read): 413, a message, nothing left."""
    app = app_factory(MEDIA_MAX_BYTES=64 * 1024)
    client = browser(app, person(app))
    assert_refused(app, upload(client, "big.png", b"\x89PNG\r\n\x1a\n" + b"\0" * (64 * 1024)), 413, "just over")
    assert_refused(app, upload(client, "big.bin", b"\0" * (2 * 1024 * 1024)), 413, "far over")


def test_the_upload_root_is_outside_the_code_and_python_paths(app):
    """Cases 34-38 ("config overwrite"): even a name that slipped through could not land where
    a web server or Python reads configuration or code."""
    root = Path(app.config["UPLOAD_DIR"]).resolve()
    code = Path(__file__).resolve().parents[1]
    assert code / "app" not in (root, *root.parents) and code / "app" / "static" not in (root, *root.parents)
    for entry in sys.path:
        if entry:
            assert Path(entry).resolve() not in (root, *root.parents) or Path(entry).resolve() == Path("/"), entry


def test_quota_refusal_stores_nothing(app_factory):
    app = app_factory(MEDIA_QUOTA_BYTES=1000)
    client = browser(app, person(app))
    out = io.BytesIO()
    Image.frombytes("RGB", (64, 64), os.urandom(64 * 64 * 3)).save(out, "PNG")  # noise: about 12 kB
    response = upload(client, "big.png", out.getvalue(), alt="noise")
    assert_refused(app, response, 413, "quota")
    assert response.get_json()["error"]["reason"] == "quota"


# ---------------------------------------------------------------------------------------------
# 3. What re-encoding guarantees
# ---------------------------------------------------------------------------------------------

def gps_jpeg(orientation: int | None = None, size=(40, 20)) -> bytes:
    """A JPEG carrying camera, GPS and (optionally) orientation EXIF tags, left half red."""
    im = Image.new("RGB", size, (0, 0, 255))
    im.paste((255, 0, 0), (0, 0, size[0] // 2, size[1]))
    exif = Image.Exif()
    exif[0x010F] = "GauntletCam"  # Make
    exif[0x0131] = "<script>alert('exif')</script>"  # Software
    if orientation:
        exif[0x0112] = orientation
    gps = exif.get_ifd(0x8825)
    gps[1], gps[2] = "N", (48.0, 51.0, 24.0)  # GPSLatitudeRef, GPSLatitude: Paris
    gps[3], gps[4] = "E", (2.0, 21.0, 3.0)
    out = io.BytesIO()
    im.save(out, "JPEG", exif=exif, quality=95)
    return out.getvalue()


def test_gps_exif_is_dropped(app):
    client = browser(app, person(app))
    original = gps_jpeg()
    with Image.open(io.BytesIO(original)) as im:  # the control: the sample really has GPS
        assert dict(im.getexif().get_ifd(0x8825))[2] == (48.0, 51.0, 24.0)
    item = uploaded(client, "holiday.jpg", original, alt="A beach")
    for body in (stored_path(app, item["id"]).read_bytes(), client.get(item["url"]).get_data()):
        with Image.open(io.BytesIO(body)) as im:
            assert len(im.getexif().get_ifd(0x8825)) == 0 and len(im.getexif()) == 0
        assert b"GauntletCam" not in body and b"<script>" not in body
        assert_clean_image(body, "holiday.jpg")


def test_exif_orientation_is_applied(app):
    client = browser(app, person(app))
    item = uploaded(client, "rotated.jpg", gps_jpeg(orientation=6, size=(40, 20)), alt="A rotated photo")
    assert (item["width"], item["height"]) == (20, 40)
    with Image.open(stored_path(app, item["id"])) as im:
        assert im.size == (20, 40) and 0x0112 not in im.getexif()
        # Orientation 6 = turn 90 degrees clockwise to display: the left (red) half is now on top.
        top, bottom = im.convert("RGB").getpixel((10, 3)), im.convert("RGB").getpixel((10, 36))
        assert top[0] > 200 and top[2] < 60 and bottom[2] > 200 and bottom[0] < 60, (top, bottom)


def test_an_animated_gif_keeps_its_frames_when_small(app):
    client = browser(app, person(app))
    item = uploaded(client, "wave.gif", gif(frames=3), alt="A waving hand")
    with Image.open(stored_path(app, item["id"])) as im:
        assert im.n_frames == 3
    assert fetch(app, Media, item["id"]).frames == 3


def test_an_animation_over_the_pixel_budget_becomes_a_still(app_factory):
    app = app_factory(MEDIA_MAX_ANIMATION_PIXELS=250)  # 3 frames x 10 x 10 = 300 pixels > 250
    client = browser(app, person(app))
    item = uploaded(client, "wave.gif", gif(frames=3), alt="A waving hand")
    with Image.open(stored_path(app, item["id"])) as im:
        assert getattr(im, "n_frames", 1) == 1
    assert fetch(app, Media, item["id"]).frames == 1


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_a_colour_profile_is_kept(app, fmt):
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    out = io.BytesIO()
    Image.new("RGB", (16, 16), (10, 200, 10)).save(out, fmt, icc_profile=icc)
    client = browser(app, person(app))
    item = uploaded(client, f"profiled.{fmt.lower()}", out.getvalue(), alt="A green square")
    with Image.open(stored_path(app, item["id"])) as im:
        assert im.info.get("icc_profile") == icc


def _rss_kb() -> int:
    with open("/proc/self/status") as status:
        return int(next(line for line in status if line.startswith("VmRSS:")).split()[1])


def _peak_kb() -> int:
    with open("/proc/self/status") as status:
        return int(next(line for line in status if line.startswith("VmHWM:")).split()[1])


def _reset_peak() -> bool:
    """Reset the process's peak RSS (Linux: write 5 to clear_refs); False where not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


def _measured(client, name, data, **fields):
    """The response, the tracemalloc peak (bytes) and the peak RSS growth (kB, None if unknown)
    of one upload request."""
    resettable = _reset_peak()
    base = _rss_kb()
    tracemalloc.start()
    try:
        response = upload(client, name, data, **fields)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    return response, peak, (_peak_kb() - base) if resettable else None


BOMB_SIDE = 7100  # 7100 x 7100 = 50.4 megapixels: 151 MB of RGB once decoded


def test_a_50_megapixel_bomb_is_refused_within_a_memory_bound(app):
    """A real 7100 x 7100 RGB PNG (valid IHDR, an IDAT of 7100 zlib-compressed rows of zeros:
    about 150 kB on the wire, 151 MB decoded) is refused with 400 and a reason before any pixel
    is decoded. Stated bound: the request's Python allocations (tracemalloc peak) stay under
    20 MB and the process's peak RSS grows by less than 48 MB (decoding would need 151 MB).
    The control, a 12-megapixel PNG that IS decoded, grows the peak RSS by more than 30 MB, so
    the RSS meter can fail."""
    client = browser(app, person(app))
    bomb = png_header_flood(BOMB_SIDE, BOMB_SIDE, rows=BOMB_SIDE)
    assert len(bomb) < 1_000_000
    client.get("/media")  # warm up: templates, imports, the session
    response, python_peak, rss_growth = _measured(client, "bomb.png", bomb)
    assert_refused(app, response, 400, "bomb.png")
    message = response.get_json()["error"]["message"]
    assert "7100 × 7100" in message and "megapixels" in message, message
    assert python_peak < 20 * 1024 * 1024, f"tracemalloc peak {python_peak / 1e6:.1f} MB"
    if rss_growth is not None:
        assert rss_growth < 48 * 1024, f"peak RSS grew by {rss_growth / 1024:.0f} MB"
        # The control: a 4000 x 3000 image is decoded and re-encoded, and the meter shows it.
        twelve = png_header_flood(4000, 3000, rows=3000)
        response, _peak, control = _measured(client, "twelve.png", twelve, alt="Grey")
        assert response.status_code == 201, response.get_data()[:200]
        assert control > 30 * 1024, f"the control grew the peak RSS by only {control / 1024:.0f} MB"


# ---------------------------------------------------------------------------------------------
# 4. Naughty strings as titles, alt texts and file names
# ---------------------------------------------------------------------------------------------

def _storable(value: str) -> bool:
    from app.core.text import UNSTORABLE
    return not UNSTORABLE.search(value)


@pytest.mark.parametrize("field", ["title", "alt"])
def test_naughty_titles_and_alt_texts(app, field):
    """Each string is stored as typed (the service trims surrounding white space), comes back
    exactly in the JSON and HTML-escaped on the about page; refused (400 with a message) only
    when, once trimmed, it holds characters no text field can store (NUL, C0 controls)."""
    client = browser(app, person(app))
    image = png()
    failures = []
    for value in BLNS:
        response = upload(client, "naughty.png", image, **{field: value, "alt": "x"} if field == "title" else {field: value})
        if response.status_code >= 500:
            failures.append(f"{value!r}: HTTP {response.status_code}")
            continue
        if not _storable(value.strip()) or len(value.strip()) > {"title": 200, "alt": 500}[field]:
            if response.status_code != 400 or not response.get_json()["error"]["message"]:
                failures.append(f"{value!r}: expected 400 with a message, got {response.status_code}")
            continue
        if response.status_code != 201:
            failures.append(f"{value!r}: {response.status_code} {response.get_data()[:200]!r}")
            continue
        item = response.get_json()
        expected = value.strip() or ("naughty" if field == "title" else "")
        if item[field] != expected:
            failures.append(f"{value!r}: JSON {field} is {item[field]!r}")
        if expected and str(escape(expected)) not in text(client.get(f"/media/{item['id']}/about")):
            failures.append(f"{value!r}: not shown escaped on the about page")
    assert not failures, f"{len(failures)} naughty {field}s mishandled:\n" + "\n".join(failures[:30])


NAME_REFUSABLE = set("/\\:") | {"\u200e", "\u200f", "\u061c"} | {chr(c) for c in range(0x202A, 0x202F)} | \
    {chr(c) for c in range(0x2066, 0x206A)}


def name_may_be_refused(name: str) -> bool:
    import unicodedata
    return (any(ch in NAME_REFUSABLE or unicodedata.category(ch) in ("Cc", "Cs") for ch in name)
            or name != name.strip() or name.startswith(".") or name.endswith(".") or len(name) > 255)


def test_naughty_file_names(app):
    """``<naughty>.png`` (a valid PNG): stored with the name exactly as sent (JSON, and escaped
    on the about page), or, only for names with NUL/control/bidi/slash/backslash/colon or a
    leading/trailing dot or space (or over 255 characters), refused with 400 and a reason.
    Never a 500, and never a file outside the random storage names."""
    client = browser(app, person(app))
    image = png()
    failures, refused = [], 0
    for value in BLNS:
        name = f"{value}.png"
        response = upload(client, name, image, alt="naughty")
        if response.status_code == 201:
            item = response.get_json()
            if item["original_name"] != name:
                failures.append(f"{name!r}: stored as {item['original_name']!r}")
            elif str(escape(name)) not in text(client.get(f"/media/{item['id']}/about")):
                failures.append(f"{name!r}: not shown escaped on the about page")
        elif response.status_code == 400 and name_may_be_refused(name):
            refused += 1
            if not (response.get_json() or {}).get("error", {}).get("message"):
                failures.append(f"{name!r}: 400 without a message")
        else:
            failures.append(f"{name!r}: HTTP {response.status_code} {response.get_data()[:200]!r}")
    assert not failures, f"{len(failures)} naughty names mishandled:\n" + "\n".join(failures[:30])
    # Many payloads hold "/" (closing tags, URLs) or ":" (schemes): those are refused by rule.
    assert 0 < refused < len(BLNS) * 2 // 3, refused
    root = Path(app.config["UPLOAD_DIR"]).resolve()
    assert all(p.name[:32].isalnum() for p in files_on_disk(app)) and all(root in p.parents for p in files_on_disk(app))
    assert count(app, Media) == len(BLNS) - refused


def _with_metadata(kind: str) -> tuple[str, bytes]:
    """An image of each accepted format carrying a comment / EXIF / XMP / text chunk with a marker."""
    from PIL import PngImagePlugin
    exif = Image.Exif()
    exif[0x0131] = "GAUNTLETMARK"
    out = io.BytesIO()
    frames = [Image.new("RGB", (10, 10), (60 * i, 0, 255 - 60 * i)) for i in range(3)]
    if kind == "jpeg":
        frames[0].save(out, "JPEG", comment=b"GAUNTLETMARK", exif=exif)
    elif kind == "gif":
        frames[0].save(out, "GIF", comment=b"GAUNTLETMARK")
    elif kind == "animated-gif":
        frames[0].save(out, "GIF", save_all=True, append_images=frames[1:], comment=b"GAUNTLETMARK")
    elif kind == "webp":
        frames[0].save(out, "WEBP", exif=exif, xmp=b"<x>GAUNTLETMARK</x>")
    elif kind == "animated-webp":
        frames[0].save(out, "WEBP", save_all=True, append_images=frames[1:], exif=exif, xmp=b"<x>GAUNTLETMARK</x>")
    else:
        info = PngImagePlugin.PngInfo()
        info.add_text("Comment", "GAUNTLETMARK")
        info.add_itxt("XML:com.adobe.xmp", "GAUNTLETMARK")
        frames[0].save(out, "PNG", pnginfo=info, exif=exif)
    extension = {"jpeg": "jpg", "animated-gif": "gif", "animated-webp": "webp"}.get(kind, kind)
    return f"marked.{extension}", out.getvalue()


@pytest.mark.parametrize("kind", ["jpeg", "gif", "animated-gif", "webp", "animated-webp", "png"])
def test_no_comment_exif_or_xmp_survives_in_any_format(app, kind):
    """JPEG COM segments and GIF comment extensions are metadata too (Pillow re-writes both from
    ``im.info`` unless told not to)."""
    name, data = _with_metadata(kind)
    assert b"GAUNTLETMARK" in data
    client = browser(app, person(app))
    item = uploaded(client, name, data, alt="Marked")
    stored = stored_path(app, item["id"]).read_bytes()
    assert b"GAUNTLETMARK" not in stored and b"GAUNTLETMARK" not in client.get(item["url"]).get_data()
    assert_clean_image(stored, name)

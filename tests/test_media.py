"""The media library as a member uses it: upload through the stable API and the no-JS form,
what comes back (clean, rotated, thumbnails), embedding in posts, blog covers, event files,
avatars, albums, sharing to a group, quota and deletion. The gauntlet of hostile files is in
test_media_gauntlet.py; who may see what in test_media_access.py."""
import io
from pathlib import Path

import pytest
from PIL import Image

from app.blog.models import BlogPost
from app.extensions import db
from app.forum.models import Post
from app.media.models import Album, Media, MediaUse
from tests.factories import a_group, a_topic, browser, count, fetch, member, person, post, text, token

GPS = 0x8825


def jpeg(size=(800, 600), orientation=None, gps=False, colour="red") -> bytes:
    image = Image.new("RGB", size, colour)
    exif = Image.Exif()
    if orientation:
        exif[0x0112] = orientation
    if gps:
        exif[GPS] = {1: "N", 2: (51.0, 30.0, 0.0), 3: "W", 4: (0.0, 7.0, 0.0)}
    out = io.BytesIO()
    image.save(out, "JPEG", exif=exif)
    return out.getvalue()


def png(size=(40, 30), mode="RGBA") -> bytes:
    out = io.BytesIO()
    Image.new(mode, size, (0, 128, 0, 128) if mode == "RGBA" else 0).save(out, "PNG")
    return out.getvalue()


def gif_animation(frames=3, size=(20, 20)) -> bytes:
    images = [Image.new("RGB", size, ((i * 90) % 256, 40, 200 - i * 50)) for i in range(frames)]
    out = io.BytesIO()
    images[0].save(out, "GIF", save_all=True, append_images=images[1:], duration=100, loop=0)
    return out.getvalue()


PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj 2 0 obj<</Type/Pages/Kids[]/Count 0>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
MP4 = b"\x00\x00\x00\x18ftypmp42\x00\x00\x00\x00mp42isom" + b"\x00\x00\x00\x08free" + bytes(range(256)) * 40


def upload(client, data: bytes, name: str, **fields):
    return client.post("/api/media", data={"file": (io.BytesIO(data), name), **fields},
                       headers={"X-CSRFToken": token(client), "Accept": "application/json"},
                       content_type="multipart/form-data")


def stored_files(app) -> list[Path]:
    return [p for p in Path(app.config["UPLOAD_DIR"]).rglob("*") if p.is_file()]


@pytest.fixture
def writer(app):
    return person(app, display_name="Dr Clara Klein", role="medical_oncologist")


def test_api_upload_answers_the_stable_shape_and_serves_a_clean_rotated_copy(app, writer):
    client = browser(app, writer)
    response = upload(client, jpeg(orientation=6, gps=True), "holiday photo.jpg", title="At the clinic", alt="A red square")
    assert response.status_code == 201, response.data
    body = response.get_json()
    assert {"id", "url", "thumbnail_url", "content_type", "width", "height"} <= set(body)
    assert body["content_type"] == "image/jpeg" and (body["width"], body["height"]) == (600, 800)  # rotated
    served = client.get(body["url"])
    assert served.status_code == 200 and served.mimetype == "image/jpeg"
    image = Image.open(io.BytesIO(served.data))
    assert image.size == (600, 800)
    exif = image.getexif()
    assert GPS not in exif and not exif.get_ifd(GPS) and 0x0112 not in exif
    assert "exif" not in image.info
    assert served.headers["X-Content-Type-Options"] == "nosniff"
    assert "sandbox" in served.headers["Content-Security-Policy"]
    assert served.headers["Content-Disposition"].startswith("inline")
    assert "private" in served.headers["Cache-Control"] and "no-store" not in served.headers["Cache-Control"]
    thumbs = {size: client.get(f"/media/{body['id']}/thumb/{size}") for size in ("small", "large")}
    assert all(r.status_code == 200 and r.mimetype == "image/webp" for r in thumbs.values())
    assert max(Image.open(io.BytesIO(thumbs["small"].data)).size) == 320
    with app.app_context():
        media = db.session.get(Media, body["id"])
        assert media.thumbnails_at is not None and media.original_name == "holiday photo.jpg"
        assert media.owner_id == writer.id and media.title == "At the clinic"
    # Stored under a random name inside the upload directory, with its two thumbnails.
    files = stored_files(app)
    assert len(files) == 3 and all("holiday" not in f.name for f in files)


def test_png_webp_gif_pdf_and_video_are_accepted_with_the_right_handling(app, writer):
    client = browser(app, writer)
    webp = io.BytesIO()
    Image.new("RGB", (30, 20), "blue").save(webp, "WEBP")
    cases = {"a.png": png(), "b.webp": webp.getvalue(), "c.gif": gif_animation(), "d.pdf": PDF, "e.mp4": MP4}
    answers = {name: upload(client, data, name, alt="x") for name, data in cases.items()}
    assert {name: r.status_code for name, r in answers.items()} == dict.fromkeys(cases, 201)
    gif = client.get(answers["c.gif"].get_json()["url"])
    assert Image.open(io.BytesIO(gif.data)).n_frames == 3  # the animation keeps its frames
    pdf = client.get(answers["d.pdf"].get_json()["url"])
    assert pdf.mimetype == "application/pdf" and pdf.headers["Content-Disposition"].startswith("attachment")
    assert pdf.data == PDF  # documents are stored as uploaded
    assert answers["d.pdf"].get_json()["thumbnail_url"] is None
    video_url = answers["e.mp4"].get_json()["url"]
    ranged = client.get(video_url, headers={"Range": "bytes=0-99"})
    assert ranged.status_code == 206 and len(ranged.data) == 100 and ranged.data == MP4[:100]
    assert ranged.headers["Content-Range"] == f"bytes 0-99/{len(MP4)}"


@pytest.mark.parametrize("name,data,status", [
    ("drawing.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', 415),
    ("page.html", b"<html><script>alert(1)</script></html>", 415),
    ("photo.jpg", b"<?php system($_GET['c']); ?>", 415),  # the content is not a JPEG
    ("photo.png", jpeg(), 415),  # a real JPEG named .png
    ("archive.zip", b"PK\x03\x04" + bytes(40), 415),
    ("empty.png", b"", 400),
    ("../../etc/passwd.png", png(), 400),
])
def test_refused_files_answer_a_reason_and_store_nothing(app, writer, name, data, status):
    client = browser(app, writer)
    response = upload(client, data, name)
    assert response.status_code == status
    assert response.get_json()["error"]["message"]
    assert count(app, Media) == 0 and stored_files(app) == []


def test_too_large_is_413_with_a_clear_message_and_nothing_on_disk(app_factory):
    app = app_factory(MEDIA_MAX_BYTES=50_000)
    client = browser(app, person(app))
    response = upload(client, b"%PDF-1.4\n" + bytes(200_000), "big.pdf")
    assert response.status_code == 413
    assert "50" not in response.get_json()["error"]["message"] or "MB" in response.get_json()["error"]["message"]
    assert count(app, Media) == 0 and stored_files(app) == []


def test_the_quota_refuses_with_a_reason_and_my_media_shows_it(app_factory):
    app = app_factory(MEDIA_QUOTA_BYTES=len(PDF) * 2 + 10)
    client = browser(app, person(app))
    assert upload(client, PDF, "one.pdf").status_code == 201
    assert upload(client, PDF, "two.pdf").status_code == 201
    refused = upload(client, PDF, "three.pdf")
    assert refused.status_code == 413 and "quota" in refused.get_json()["error"]["message"]
    page = text(client.get("/media"))
    assert "Storage used" in page and "<meter" in page


def test_unconfirmed_and_anonymous_people_cannot_upload(app):
    anonymous = app.test_client()
    assert anonymous.post("/api/media", data={"file": (io.BytesIO(png()), "a.png")},
                          headers={"X-CSRFToken": token(anonymous, "/login")}).status_code in (401, 403)
    unconfirmed = browser(app, person(app, confirmed=False))
    assert upload(unconfirmed, png(), "a.png").status_code == 403
    signed_in = browser(app, person(app))
    no_csrf = signed_in.post("/api/media", data={"file": (io.BytesIO(png()), "a.png")})
    assert no_csrf.status_code == 400 and count(app, Media) == 0


def test_several_files_at_once_without_javascript(app, writer):
    client = browser(app, writer)
    response = post(client, "/media/upload", {
        "files": [(io.BytesIO(png()), "one.png"), (io.BytesIO(PDF), "two.pdf"), (io.BytesIO(b"<svg/>"), "bad.svg")],
        "alt": "A green box", "licence": "cc-by-4.0", "album": "", "group": ""},
        page="/media", content_type="multipart/form-data", follow_redirects=True)
    page = text(response)
    assert "bad.svg was not uploaded" in page and "Uploaded 2 file(s)" in page
    with app.app_context():
        rows = db.session.scalars(db.select(Media).order_by(Media.id)).all()
        assert [(m.original_name, m.licence, m.alt) for m in rows] == [
            ("one.png", "cc-by-4.0", "A green box"), ("two.pdf", "cc-by-4.0", "A green box")]


def test_embedding_my_photo_in_a_reply_renders_it_and_records_the_use(app, writer):
    client = browser(app, writer)
    media_id = upload(client, png(), "scan.png", alt="A scan").get_json()["id"]
    topic = a_topic(app, writer)
    reply = post(client, f"/t/{topic.id}/reply", {"body": f"Here it is ![my scan](/media/{media_id})"},
                 page=f"/t/{topic.id}", follow_redirects=True)
    page = text(reply)
    assert f'src="/media/{media_id}/thumb/large"' in page and 'alt="my scan"' in page
    with app.app_context():
        use = db.session.scalar(db.select(MediaUse).where(MediaUse.media_id == media_id))
        assert use.parent_type == "post" and use.role == "embed"
    # The reply's topic is public: a visitor now sees the file and its thumbnail.
    visitor = app.test_client()
    assert visitor.get(f"/media/{media_id}").status_code == 200
    assert visitor.get(f"/media/{media_id}/thumb/small").status_code == 200
    assert "public" in visitor.get(f"/media/{media_id}").headers["Cache-Control"]


def test_an_image_without_any_description_cannot_be_embedded(app, writer):
    client = browser(app, writer)
    media_id = upload(client, png(), "undescribed.png").get_json()["id"]
    topic = a_topic(app, writer)
    response = post(client, f"/t/{topic.id}/reply", {"body": f"Look ![](/media/{media_id})"}, page=f"/t/{topic.id}")
    assert response.status_code in (400, 422) and "Describe the image" in text(response)
    assert count(app, Post) == 1  # only the opening post
    # With words between the brackets it is described, and it posts.
    ok = post(client, f"/t/{topic.id}/reply", {"body": f"Look ![a chart of my blood counts](/media/{media_id})"},
              page=f"/t/{topic.id}")
    assert ok.status_code in (302, 303) and count(app, Post) == 2


def test_someone_elses_file_is_never_embedded_and_never_widened(app, writer):
    owner = browser(app, writer)
    private_id = upload(owner, png(), "private.png", alt="Private").get_json()["id"]
    other = person(app)
    client = browser(app, other)
    topic = a_topic(app, other)
    post(client, f"/t/{topic.id}/reply", {"body": f"stolen ![x](/media/{private_id})"}, page=f"/t/{topic.id}")
    page = text(client.get(f"/t/{topic.id}"))
    assert f"/media/{private_id}/thumb" not in page and "[file removed]" in page
    assert app.test_client().get(f"/media/{private_id}").status_code == 404
    assert client.get(f"/media/{private_id}").status_code == 404
    assert count(app, MediaUse) == 0


def test_deleting_a_file_removes_it_from_disk_and_posts_say_removed(app, writer):
    client = browser(app, writer)
    media_id = upload(client, png(), "gone.png", alt="Soon gone").get_json()["id"]
    topic = a_topic(app, writer, body=f"Opening ![chart](/media/{media_id})")
    assert len(stored_files(app)) == 3
    assert client.get(f"/media/{media_id}/delete").status_code == 200
    response = post(client, f"/media/{media_id}/delete", {}, page=f"/media/{media_id}/delete")
    assert response.status_code == 303
    assert stored_files(app) == [] and count(app, Media) == 0 and count(app, MediaUse) == 0
    page = text(client.get(f"/t/{topic.id}"))
    assert "[file removed]" in page and f"/media/{media_id}/" not in page
    assert client.get(f"/media/{media_id}").status_code == 404
    with app.app_context():
        opening = db.session.scalar(db.select(Post).where(Post.topic_id == topic.id))
        assert f"/media/{media_id}" not in opening.body_html


def test_a_blog_post_gets_a_cover_and_a_draft_keeps_it_private(app, writer):
    client = browser(app, writer)
    media_id = upload(client, png((200, 100)), "cover.png", alt="Our ward at dawn").get_json()["id"]
    form = client.get("/blog/new")
    assert f'value="{media_id}"' in text(form)
    response = post(client, "/blog/new", {"title": "Ward life", "body": "Words.", "visibility": "private",
                                          "cover": str(media_id)}, page="/blog/new")
    assert response.status_code == 303
    with app.app_context():
        blog = db.session.scalar(db.select(BlogPost))
        assert blog.cover_id == media_id
        blog_id = blog.id
    page = text(client.get(f"/blog/{blog_id}", follow_redirects=True))
    assert f'src="/media/{media_id}/thumb/large" alt="Our ward at dawn"' in page
    assert app.test_client().get(f"/media/{media_id}").status_code == 404  # a draft grants nothing
    post(client, f"/blog/{blog_id}/edit", {"title": "Ward life", "body": "Words.", "visibility": "public",
                                          "cover": str(media_id)}, page=f"/blog/{blog_id}/edit")
    assert app.test_client().get(f"/media/{media_id}").status_code == 200  # published to everyone


def test_only_my_own_described_images_can_be_a_cover(app, writer):
    other = browser(app, person(app))
    theirs = upload(other, png(), "theirs.png", alt="Not yours").get_json()["id"]
    client = browser(app, writer)
    response = post(client, "/blog/new", {"title": "T", "body": "B", "visibility": "public", "cover": str(theirs)},
                    page="/blog/new")
    assert response.status_code == 404 and "your own files" in text(response)
    assert count(app, BlogPost) == 0


def test_event_cover_and_programme(app, writer):
    client = browser(app, writer)
    cover = upload(client, png(), "poster.png", alt="Poster of the course").get_json()["id"]
    programme = upload(client, PDF, "programme.pdf").get_json()["id"]
    response = post(client, "/events/new", {
        "title": "Radiotherapy course", "kind": "course", "start_date": "2027-03-02", "start_time": "09:00",
        "end_date": "2027-03-02", "end_time": "17:00", "timezone": "Europe/Lisbon", "visibility": "public", "country": "PT",
        "cover": str(cover), "programme": str(programme), "description": "Hands-on."}, page="/events/new")
    assert response.status_code == 303, [l for l in text(response).splitlines() if "error" in l]
    page = text(client.get(response.headers["Location"]))
    assert f"/media/{cover}/thumb/large" in page and f'href="/media/{programme}"' in page
    assert app.test_client().get(f"/media/{programme}").status_code == 200


def test_avatar_shows_beside_posts_and_initials_otherwise(app, writer):
    client = browser(app, writer)
    media_id = upload(client, png((64, 64)), "me.png", alt="Clara").get_json()["id"]
    topic = a_topic(app, writer)
    before = text(client.get(f"/t/{topic.id}"))
    assert 'class="avatar avatar-initials' in before and ">DK<" in before
    assert post(client, f"/media/{media_id}/avatar", {}, page=f"/media/{media_id}/about").status_code == 303
    after = text(app.test_client().get(f"/t/{topic.id}"))
    assert f'src="/media/{media_id}/thumb/small"' in after
    assert app.test_client().get(f"/media/{media_id}/thumb/small").status_code == 200  # a profile is public
    assert f"/media/{media_id}/thumb/small" in text(client.get(f"/people/{writer.id}"))
    post(client, "/media/avatar/remove", {}, page="/settings/profile")
    assert fetch(app, type(writer), writer.id).avatar_id is None


def test_group_files_share_and_group_picture(app, writer):
    group = a_group(app, writer, kind="closed", name="Sarcoma nurses")
    client = browser(app, writer)
    response = upload(client, PDF, "protocol.pdf", group=group.slug, title="Ward protocol")
    assert response.status_code == 201 and response.get_json()["group"] == group.slug
    page = text(client.get(f"/groups/{group.slug}/files"))
    assert "Ward protocol" in page
    outsider = browser(app, person(app))
    assert outsider.get(f"/groups/{group.slug}/files").status_code == 404
    assert outsider.get(response.get_json()["url"]).status_code == 404
    colleague = person(app)
    member(app, group, colleague)
    assert browser(app, colleague).get(response.get_json()["url"]).status_code == 200
    # Only members share into a group.
    assert upload(outsider, PDF, "x.pdf", group=group.slug).status_code == 404
    picture = upload(client, png(), "logo.png", alt="Group logo").get_json()["id"]
    assert post(client, f"/groups/{group.slug}/picture", {"media_id": str(picture)},
                page=f"/groups/{group.slug}/edit").status_code == 303
    assert f"/media/{picture}/thumb/small" in text(client.get(f"/groups/{group.slug}"))


def test_albums_and_editing_details(app, writer):
    client = browser(app, writer)
    media_id = upload(client, png(), "x.png").get_json()["id"]
    post(client, "/media/albums", {"title": "Conference 2027"}, page="/media")
    with app.app_context():
        album_id = db.session.scalar(db.select(Album.id))
    response = post(client, f"/media/{media_id}/edit", {"title": "Poster", "alt": "A poster", "description": "Mine",
                                                       "licence": "cc-by-4.0", "album": str(album_id), "group": ""},
                    page=f"/media/{media_id}/edit")
    assert response.status_code == 303
    listing = text(client.get(f"/media?album={album_id}"))
    assert "Poster" in listing
    api = client.patch(f"/api/media/{media_id}", json={"alt": "New alt"}, headers={"X-CSRFToken": token(client)})
    assert api.status_code == 200 and api.get_json()["alt"] == "New alt"
    other = browser(app, person(app))
    assert other.patch(f"/api/media/{media_id}", json={"alt": "x"}, headers={"X-CSRFToken": token(other)}).status_code == 404
    assert other.get(f"/media/{media_id}/edit").status_code == 404


@pytest.mark.parametrize("value", ["<script>alert(1)</script>", "Ṱ̺̺̕o͞ ̷i̲̬͇̪͙n̝̗͕v̟̜̘̦͟o̶̙̰̠kè͚̮̺̪̹̱̤", "' OR 1=1 --", "👩🏽‍⚕️ 📷"])
def test_naughty_titles_and_alt_texts_come_back_exactly(app, writer, value):
    client = browser(app, writer)
    name = value.replace("/", "") + ".png"  # a slash in a file name is refused (test_media_gauntlet)
    body = upload(client, png(), name, title=value, alt=value).get_json()
    assert (body["title"], body["alt"], body["original_name"]) == (value, value, name)
    page = text(client.get(f"/media/{body['id']}/about"))
    assert "<script>alert(1)</script>" not in page
    from markupsafe import escape
    assert str(escape(value)) in page


def test_the_group_owner_sees_the_picture_form_with_their_images(app, writer):
    group = a_group(app, writer, name="Picture group")
    client = browser(app, writer)
    picture = upload(client, png(), "logo.png", alt="Logo").get_json()["id"]
    page = text(client.get(f"/groups/{group.slug}/edit"))
    assert "Group picture" in page and f'<option value="{picture}">logo</option>' in page

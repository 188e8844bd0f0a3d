"""Media in a real browser, axe on every page visited.

(a) A clinician uploads three slides (PDF) and a photo at once from My media (one multi-file
    input; the page's script shows a progress bar per file), writes a blog post in a CLOSED group
    that embeds the photo with alt text, and publishes it to the group: a member sees the image
    (it really decodes: naturalWidth > 0); a visitor gets 404 for the post, the photo and its
    thumbnail.
(b) Every sample the upload gauntlet ACCEPTS (real photos with script payloads in their
    metadata) is shown in a page and opened directly: no dialog ever opens and no script error
    reaches the console.
"""
import io
import uuid

from playwright.sync_api import expect
from sqlalchemy import select

from app.extensions import db
from app.media.models import Media
from tests.e2e.test_group_journeys import NOT_FOUND, login
from tests.factories import add_member, make_blog_post, make_group, make_user
from tests.test_media_gauntlet import ACCEPTED_SAMPLES, pdf, sample_bytes

# Records every progress bar the upload script shows, across the reload it does when done
# (sessionStorage survives the reload; an init script runs outside the page's CSP).
PROGRESS_PROBE = """
(() => {
  const seen = JSON.parse(sessionStorage.getItem('progressSeen') || '{}');
  const record = () => {
    document.querySelectorAll('.upload-progress progress').forEach((bar) => {
      const name = bar.getAttribute('aria-label');
      seen[name] = Math.max(seen[name] || 0, Number(bar.value));
    });
    sessionStorage.setItem('progressSeen', JSON.stringify(seen));
  };
  new MutationObserver(record).observe(document, {subtree: true, childList: true, attributes: true});
  setInterval(record, 5);
})();
"""


def _photo() -> bytes:
    from PIL import Image
    out = io.BytesIO()
    image = Image.new("RGB", (640, 480), (40, 90, 160))
    image.paste((240, 200, 60), (200, 140, 440, 340))
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def test_clinician_shares_slides_and_a_photo_in_a_closed_group(live_server, new_page, axe, tmp_path):
    tag = uuid.uuid4().hex[:8]
    with live_server.app.app_context():
        clinician = make_user(display_name=f"Dr Ana {tag}", role="clinician")
        reader = make_user(display_name=f"Member {tag}")
        group = make_group(clinician, kind="closed", name=f"Thoracic tumour board {tag}")
        add_member(group, reader)
        ids = {"clinician": clinician.id, "email": clinician.email, "reader": reader.email, "group": group.name,
               "slug": group.slug}
    base = live_server.url
    files = []
    for n in (1, 2, 3):
        path = tmp_path / f"slides-part-{n}.pdf"
        path.write_bytes(pdf(f"Slide {n}"))
        files.append(str(path))
    photo = tmp_path / "congress-poster.jpg"
    photo.write_bytes(_photo())
    files.append(str(photo))

    page = new_page()
    page.context.add_init_script(PROGRESS_PROBE)
    login(page, base, ids["email"])
    page.goto(f"{base}/media")
    expect(page.get_by_role("heading", level=1)).to_have_text("My media")
    axe(page)
    page.get_by_label("Files (images", exact=False).set_input_files(files)
    page.get_by_label("Alt text (describes an image", exact=False).fill("Poster of our lung cancer screening study")
    page.get_by_role("button", name="Upload", exact=True).click()
    # All four are uploaded (the script reloads the page when every file is in) ...
    expect(page.locator(".media-card")).to_have_count(4)
    axe(page)
    # ... and each had its own progress bar, which reached 100.
    seen = page.evaluate("JSON.parse(sessionStorage.getItem('progressSeen') || '{}')")
    assert seen == {name: 100 for name in ("slides-part-1.pdf", "slides-part-2.pdf", "slides-part-3.pdf",
                                           "congress-poster.jpg")}, seen
    with live_server.app.app_context():
        mine = db.session.scalars(select(Media).where(Media.owner_id == ids["clinician"])).all()
        assert sorted(m.kind for m in mine) == ["document", "document", "document", "image"]
        photo_id = next(m.id for m in mine if m.kind == "image")
    page.goto(f"{base}/media/{photo_id}/about")
    expect(page.get_by_role("heading", level=1)).to_have_text("congress-poster")
    axe(page)

    # The post: in the closed group, the photo embedded with its own alt text, published to members.
    page.goto(f"{base}/blog/new?group={ids['slug']}")
    axe(page)
    title = f"Our screening poster {tag}"
    page.get_by_label("Title").fill(title)
    page.get_by_label("Your post").fill(f"The poster we showed at the congress.\n\n"
                                        f"![Poster: screening uptake by region](/media/{photo_id})\n\nSlides follow.")
    page.get_by_label(f"Members of {ids['group']} only").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    image = page.get_by_role("img", name="Poster: screening uptake by region")
    expect(image).to_be_visible()
    page.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=image.element_handle())
    post_url = page.url
    axe(page)

    member = new_page()
    login(member, base, ids["reader"])
    member.goto(post_url)
    expect(member.get_by_role("heading", level=1)).to_have_text(title)
    seen_image = member.get_by_role("img", name="Poster: screening uptake by region")
    expect(seen_image).to_be_visible()
    member.wait_for_function("(img) => img.complete && img.naturalWidth > 0", arg=seen_image.element_handle())
    assert member.evaluate("(img) => img.naturalWidth", seen_image.element_handle()) > 0
    axe(member)

    visitor = new_page()
    assert visitor.goto(post_url).status == 404
    expect(visitor.get_by_role("heading", level=1)).to_have_text(NOT_FOUND)
    axe(visitor)
    for url in (f"/media/{photo_id}", f"/media/{photo_id}/thumb/small", f"/media/{photo_id}/thumb/large",
                f"/media/{photo_id}/about"):
        assert visitor.goto(base + url).status == 404, url
    assert not page.dialogs and not member.dialogs and not visitor.dialogs


def test_accepted_gauntlet_samples_run_no_script_in_the_browser(live_server, new_page, axe):
    """Each accepted sample embedded in a public post, then each file and thumbnail opened by
    URL: no alert/confirm/prompt dialog, no console error (a script that ran and failed, or a
    blocked one, would log one)."""
    from app.media.services import upload
    tag = uuid.uuid4().hex[:8]
    with live_server.app.test_request_context():
        author = make_user(display_name=f"Sampler {tag}")
        ids = [upload(author, sample["name"], sample_bytes(sample), alt=f"Sample {n}").id
               for n, sample in enumerate(ACCEPTED_SAMPLES)]
        body = "\n\n".join(f"![Sample {n}](/media/{ident})" for n, ident in enumerate(ids))
        post = make_blog_post(author, visibility="public", title=f"Odd photos {tag}", body=body)
        post_url = f"{live_server.url}/blog/{post.id}-{post.slug}"
    assert len(ids) == len(ACCEPTED_SAMPLES) == 6
    page = new_page()
    assert page.goto(post_url).status == 200
    images = page.locator(".prose img")
    expect(images).to_have_count(len(ids))
    page.wait_for_function("() => [...document.querySelectorAll('.prose img')].every(i => i.complete && i.naturalWidth > 0)")
    page.mouse.move(200, 300)  # an onmouseover payload would need a pointer over it
    for n in range(len(ids)):
        images.nth(n).hover()
    axe(page)
    for ident in ids:
        for url in (f"/media/{ident}", f"/media/{ident}/thumb/small", f"/media/{ident}/thumb/large",
                    f"/media/{ident}/about"):
            response = page.goto(live_server.url + url)
            assert response.status == 200, url
            page.mouse.move(10, 10)
            page.mouse.move(100, 100)
        axe(page)  # the about page
    assert page.dialogs == [], page.dialogs
    assert page.console_errors == [], page.console_errors

"""The composer in a real browser: formatting, the server-rendered preview, a draft that survives
a reload, "@" suggestions that insert a mention which posts as a profile link, images (upload,
paste, drop, my media) described before they are inserted, and the plain textarea without
JavaScript. axe runs on the states a person sees."""
import base64
import io
import re

import pytest
from PIL import Image
from playwright.sync_api import expect

from tests.factories import add_member, make_group, make_topic, make_user
from tests.test_realtime_support import session_cookie

TIMEOUT = 10_000


@pytest.fixture
def thread(live_server):
    with live_server.app.app_context():
        anna, ben = make_user(display_name="Anna Alder"), make_user(display_name="Ben Birch")
        make_user(display_name="Bea Outsider")  # not in the group: never suggested there
        group = make_group(anna, kind="closed")
        add_member(group, ben)
        topic = make_topic(anna, group=group, title="Managing fatigue")
        return dict(anna=anna.id, ben=ben.id, topic=topic.id, slug=group.slug)


def signed_in(new_page, live_server, user_id, **kwargs):
    page = new_page(**kwargs)
    name, value = session_cookie(live_server.app, user_id).split("=", 1)
    page.context.add_cookies([{"name": name, "value": value, "url": live_server.url}])
    return page


def png_base64(color=(200, 60, 60)) -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (40, 30), color).save(buffer, "PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def select_text(page, text):
    page.evaluate("""(text) => { const box = document.getElementById('body');
        const at = box.value.indexOf(text); box.focus(); box.setSelectionRange(at, at + text.length); }""", text)


def test_write_format_preview_keep_a_draft_mention_and_post(new_page, live_server, thread, axe):
    url = f"{live_server.url}/t/{thread['topic']}"
    page = signed_in(new_page, live_server, thread["anna"])
    page.goto(url)
    box = page.locator("#body")
    bold = page.get_by_role("button", name="Bold")
    expect(bold).to_be_visible()
    axe(page)

    box.fill("Short walks helped me a lot.")
    select_text(page, "helped")
    bold.click()
    expect(box).to_have_value("Short walks **helped** me a lot.")
    box.press("End")
    box.press_sequentially("\n\nThanks to ")

    page.get_by_role("tab", name="Preview").click()
    preview = page.get_by_role("tabpanel", name="Preview")
    expect(preview.locator("strong")).to_have_text("helped", timeout=TIMEOUT)
    expect(box).to_be_hidden()
    axe(page)
    page.get_by_role("tab", name="Write").click()
    expect(box).to_be_visible()

    expect(page.locator(".composer-saved")).to_have_text("Draft saved", timeout=TIMEOUT)
    page.reload()
    expect(box).to_have_value("Short walks **helped** me a lot.\n\nThanks to ", timeout=TIMEOUT)
    expect(page.locator(".composer-notice")).to_contain_text("Draft restored")

    box.focus()
    box.press("End")
    box.press_sequentially("@Be")
    options = page.get_by_role("listbox", name="People you can mention").get_by_role("option")
    expect(options).to_have_text(["Ben Birch"], timeout=TIMEOUT)  # Bea is not in this closed group
    expect(box).to_have_attribute("aria-activedescendant", re.compile(r"-mentions-0$"))
    axe(page)
    box.press("Enter")
    expect(box).to_have_value("Short walks **helped** me a lot.\n\nThanks to @[Ben Birch] ")
    expect(page.get_by_role("listbox", name="People you can mention")).to_be_hidden()

    page.get_by_role("button", name="Post reply").click()
    reply = page.locator("li.post", has_text="Short walks")
    expect(reply).to_have_count(1, timeout=TIMEOUT)
    expect(reply.locator(f'.post-body a[href="/people/{thread["ben"]}"]')).to_have_text(re.compile("Ben Birch"))
    expect(reply.locator(".post-body strong")).to_have_text("helped")

    page.goto(url)  # sent: the draft is gone
    expect(page.get_by_role("button", name="Bold")).to_be_visible()
    page.wait_for_timeout(500)
    expect(box).to_have_value("")
    expect(page.locator(".composer-notice")).to_have_text("")
    assert not page.dialogs and not page.console_errors


def test_the_preview_warns_and_a_discarded_draft_is_forgotten(new_page, live_server, thread, axe):
    url = f"{live_server.url}/t/{thread['topic']}"
    page = signed_in(new_page, live_server, thread["ben"])
    page.goto(url)
    text = "Something I may not send: write to me at ben.birch@example.org"
    page.locator("#body").fill(text)
    page.get_by_role("tab", name="Preview").click()
    warnings = page.locator(".composer-warnings")
    expect(warnings).to_contain_text("Before you post", timeout=TIMEOUT)  # the posting assistant
    expect(warnings.get_by_role("link", name="Community guidelines")).to_be_visible()
    axe(page)
    page.get_by_role("tab", name="Write").click()
    expect(page.locator(".composer-saved")).to_have_text("Draft saved", timeout=TIMEOUT)
    page.reload()
    expect(page.locator("#body")).to_have_value(text, timeout=TIMEOUT)
    page.locator(".composer-notice").get_by_role("button", name="Discard").click()
    expect(page.locator("#body")).to_have_value("")
    page.reload()
    page.wait_for_timeout(500)
    expect(page.locator("#body")).to_have_value("")
    assert not page.console_errors


def test_images_are_described_before_they_are_inserted(new_page, live_server, thread, axe):
    """Depends on the media API (POST/GET/PATCH /api/media)."""
    url = f"{live_server.url}/t/{thread['topic']}"
    page = signed_in(new_page, live_server, thread["anna"])
    page.goto(url)
    box = page.locator("#body")
    box.fill("Our walk:\n")

    # Upload through the picker's file button.
    page.get_by_role("button", name="Image").click()
    picker = page.get_by_role("region", name="My media")
    expect(picker).to_be_visible()
    expect(picker).to_contain_text("You have not uploaded anything yet.", timeout=TIMEOUT)
    axe(page)
    with page.expect_file_chooser() as chooser:
        picker.get_by_role("button", name="Upload from this device").click()
    chooser.value.set_files(files=[{"name": "walk.png", "mimeType": "image/png",
                                    "buffer": base64.b64decode(png_base64())}])
    alt = page.get_by_label("Describe the image for people who cannot see it")
    expect(alt).to_be_focused(timeout=TIMEOUT)
    axe(page)
    page.get_by_role("button", name="Insert", exact=True).click()  # no description yet: refused
    expect(page.get_by_role("alert").filter(has_text="Please describe the image first.")).to_be_visible()
    alt.fill("A park path in autumn")
    alt.press("Enter")
    expect(box).to_have_value(re.compile(r"^Our walk:\n!\[A park path in autumn\]\(/media/\d+\)\n$"), timeout=TIMEOUT)
    first_id = re.search(r"/media/(\d+)", box.input_value()).group(1)

    # Paste an image from the clipboard.
    page.evaluate("""(data) => {
        const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], 'pasted.png', {type: 'image/png'}));
        const box = document.getElementById('body');
        box.focus(); box.setSelectionRange(box.value.length, box.value.length);
        box.dispatchEvent(new ClipboardEvent('paste', {clipboardData: transfer, bubbles: true, cancelable: true}));
    }""", png_base64((30, 120, 200)))
    expect(page.locator(".composer-upload progress, .composer-upload")).not_to_have_count(0)
    expect(alt).to_be_focused(timeout=TIMEOUT)
    alt.fill("A blue sky")
    page.get_by_role("button", name="Insert", exact=True).click()
    expect(box).to_have_value(re.compile(r"!\[A blue sky\]\(/media/\d+\)"), timeout=TIMEOUT)
    assert "Uploading" not in box.input_value()

    # Drop a file on the composer.
    page.evaluate("""(data) => {
        const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], 'dropped.png', {type: 'image/png'}));
        const root = document.querySelector('.composer');
        for (const type of ['dragenter', 'dragover', 'drop']) {
            root.dispatchEvent(new DragEvent(type, {dataTransfer: transfer, bubbles: true, cancelable: true}));
        }
    }""", png_base64((40, 160, 60)))
    expect(alt).to_be_focused(timeout=TIMEOUT)
    alt.fill("A green field")
    alt.press("Enter")
    expect(box).to_have_value(re.compile(r"!\[A green field\]\(/media/\d+\)"), timeout=TIMEOUT)

    # My media: the first upload, now described, goes in without asking again.
    page.get_by_role("button", name="Image").click()
    tile = picker.get_by_role("button", name="Insert A park path in autumn")
    expect(tile).to_be_visible(timeout=TIMEOUT)
    axe(page)
    box.evaluate("box => box.setSelectionRange(0, 0)")
    tile.click()
    expect(picker).to_be_hidden()
    expect(box).to_have_value(re.compile(rf"^!\[A park path in autumn\]\(/media/{first_id}\)\n"))

    page.get_by_role("tab", name="Preview").click()
    preview = page.get_by_role("tabpanel", name="Preview")
    expect(preview.locator("img[alt='A blue sky']")).to_have_count(1, timeout=TIMEOUT)
    axe(page)
    assert not page.dialogs and not page.console_errors


def test_without_javascript_the_textarea_alone_posts(new_page, live_server, thread):
    page = signed_in(new_page, live_server, thread["ben"], javascript=False)
    page.goto(f"{live_server.url}/t/{thread['topic']}")
    expect(page.get_by_role("button", name="Bold")).to_have_count(0)
    page.locator("#body").fill("Plain and simple, @[Anna Alder].")
    page.get_by_role("button", name="Post reply").click()
    reply = page.locator("li.post", has_text="Plain and simple")
    expect(reply).to_have_count(1, timeout=TIMEOUT)
    expect(reply.locator(f'a[href="/people/{thread["anna"]}"]')).to_be_visible()


def test_chat_suggests_members_without_the_toolbar(new_page, live_server, thread, axe):
    page = signed_in(new_page, live_server, thread["anna"])
    page.goto(f"{live_server.url}/groups/{thread['slug']}/live")
    box = page.locator("#body")
    expect(box).to_be_visible()
    expect(page.get_by_role("button", name="Bold")).to_have_count(0)
    box.press_sequentially("Hello @bi")
    options = page.get_by_role("listbox", name="People you can mention").get_by_role("option")
    expect(options).to_have_text(["Ben Birch"], timeout=TIMEOUT)
    box.press("Enter")
    expect(box).to_have_value("Hello @[Ben Birch] ")
    axe(page)
    assert not page.console_errors


def phone_photo_base64() -> str:
    """A phone photo as cameras write it: EXIF with GPS coordinates and an orientation."""
    exif = Image.Exif()
    exif[0x0112] = 6  # rotated 90°: the served copy is turned upright
    exif[0x8825] = {1: "N", 2: (38.0, 42.0, 36.0), 3: "W", 4: (9.0, 8.0, 24.0)}  # Lisbon
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (180, 120, 90)).save(buffer, "JPEG", exif=exif)
    return base64.b64encode(buffer.getvalue()).decode()


def test_a_patient_pastes_a_phone_photo_into_a_reply_and_the_file_has_no_gps(new_page, live_server, thread, axe):
    """The issue's journey: paste, describe, post; the page shows the photo; the file the
    server hands out carries no GPS (read with Pillow) and is upright."""
    url = f"{live_server.url}/t/{thread['topic']}"
    page = signed_in(new_page, live_server, thread["ben"])
    page.goto(url)
    box = page.locator("#body")
    box.fill("This is the garden where I rest after treatment:\n")
    page.evaluate("""(data) => {
        const bytes = Uint8Array.from(atob(data), c => c.charCodeAt(0));
        const transfer = new DataTransfer();
        transfer.items.add(new File([bytes], 'IMG_2041.jpg', {type: 'image/jpeg'}));
        const box = document.getElementById('body');
        box.focus(); box.setSelectionRange(box.value.length, box.value.length);
        box.dispatchEvent(new ClipboardEvent('paste', {clipboardData: transfer, bubbles: true, cancelable: true}));
    }""", phone_photo_base64())
    alt = page.get_by_label("Describe the image for people who cannot see it")
    expect(alt).to_be_focused(timeout=TIMEOUT)
    alt.fill("A small garden with a bench")
    alt.press("Enter")
    expect(box).to_have_value(re.compile(r"!\[A small garden with a bench\]\(/media/\d+\)"), timeout=TIMEOUT)
    media_id = re.search(r"/media/(\d+)", box.input_value()).group(1)
    page.get_by_role("button", name=re.compile("^(Reply|Post reply|Send)")).first.click()
    image = page.locator("article img[alt='A small garden with a bench']")
    expect(image).to_have_count(1, timeout=TIMEOUT)
    page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle(), timeout=TIMEOUT)
    axe(page)

    download = page.request.get(f"{live_server.url}/media/{media_id}")
    assert download.status == 200 and download.headers["content-type"] == "image/jpeg"
    served = Image.open(io.BytesIO(download.body()))
    exif = served.getexif()
    assert 0x8825 not in exif and not exif.get_ifd(0x8825) and "exif" not in served.info
    assert served.size == (48, 64)  # the orientation was applied, then dropped
    assert not page.dialogs and not page.console_errors

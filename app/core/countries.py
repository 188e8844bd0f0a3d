"""The countries people, groups and events name: one list for the whole hub."""
from flask_babel import lazy_gettext as _l

# EU, EEA, UK, Switzerland and the rest of geographical Europe, then "other". ISO 3166-1 alpha-2
# (XK is the code in common use for Kosovo). ZZ is ISO's "user-assigned" code for "elsewhere".
COUNTRIES = {
    "AL": _l("Albania"), "AD": _l("Andorra"), "AM": _l("Armenia"), "AT": _l("Austria"),
    "AZ": _l("Azerbaijan"), "BE": _l("Belgium"), "BA": _l("Bosnia and Herzegovina"),
    "BG": _l("Bulgaria"), "HR": _l("Croatia"), "CY": _l("Cyprus"), "CZ": _l("Czechia"),
    "DK": _l("Denmark"), "EE": _l("Estonia"), "FI": _l("Finland"), "FR": _l("France"),
    "GE": _l("Georgia"), "DE": _l("Germany"), "GR": _l("Greece"), "HU": _l("Hungary"),
    "IS": _l("Iceland"), "IE": _l("Ireland"), "IL": _l("Israel"), "IT": _l("Italy"),
    "XK": _l("Kosovo"), "LV": _l("Latvia"), "LI": _l("Liechtenstein"), "LT": _l("Lithuania"),
    "LU": _l("Luxembourg"), "MT": _l("Malta"), "MD": _l("Moldova"), "MC": _l("Monaco"),
    "ME": _l("Montenegro"), "NL": _l("Netherlands"), "MK": _l("North Macedonia"),
    "NO": _l("Norway"), "PL": _l("Poland"), "PT": _l("Portugal"), "RO": _l("Romania"),
    "SM": _l("San Marino"), "RS": _l("Serbia"), "SK": _l("Slovakia"), "SI": _l("Slovenia"),
    "ES": _l("Spain"), "SE": _l("Sweden"), "CH": _l("Switzerland"), "TR": _l("Türkiye"),
    "UA": _l("Ukraine"), "GB": _l("United Kingdom"), "VA": _l("Vatican City"),
    "ZZ": _l("Other country"),
}

"""Human labels for facet codes (the index stores codes; labels may change and be translated)."""
from __future__ import annotations

from sqlalchemy import select

from app import policy
from app.core.countries import COUNTRIES
from app.directory.models import CENTRE_KINDS, NETWORKS
from app.extensions import db
from app.groups.models import Group
from app.trials.models import AGE_GROUP_LABELS, PHASE_LABELS, STATUS_LABELS

TYPE_LABELS = {"trial": "Trials", "centre": "Centres", "guideline": "Guidelines", "community": "Community"}
FACET_TITLES = {"status": "Status", "phase": "Phase", "country": "Country", "condition": "Condition",
                "itype": "Intervention type", "age": "Age group", "ckind": "Kind", "network": "Network",
                "publisher": "Publisher", "tumour": "Tumour type", "year": "Year", "kind": "Kind",
                "group_id": "Group", "month": "Month", "type": "Database"}


def _maps() -> dict:
    return {"status": STATUS_LABELS, "phase": PHASE_LABELS, "country": COUNTRIES, "age": AGE_GROUP_LABELS,
            "ckind": CENTRE_KINDS, "network": NETWORKS, "type": TYPE_LABELS,
            "kind": {"group": "Groups", "topic": "Topics", "post": "Replies", "event": "Events",
                     "blogpost": "Blog posts"},
            "itype": {}}


def label_facets(facets: dict) -> dict:
    """name -> [(code, label, count)]. Group values are named from the database, and only groups
    the user may see there are listed: a count from an index that lags (a group turned secret,
    a deleted one) never shows a name or an id the pages would not."""
    maps = _maps()
    out = {}
    for name, pairs in facets.items():
        if name == "group_id":
            maps["group_id"] = _group_names([v for v, _c in pairs])
            pairs = [(v, c) for v, c in pairs if v in maps["group_id"]]
        table = maps.get(name, {})
        out[name] = [(value, str(table.get(value, value.replace("_", " ").capitalize() if name == "itype" else value)), count)
                     for value, count in pairs]
    return out


def _group_names(values) -> dict:
    from flask_login import current_user
    ids = [int(v) for v in values if str(v).isdigit()]
    if not ids:
        return {}
    query = policy.visible(select(Group.id, Group.name).where(Group.id.in_(ids)), current_user, Group)
    return {str(i): n for i, n in db.session.execute(query)}

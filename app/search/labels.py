"""Human labels for facet codes (the index stores codes; labels may change and be translated)."""
from __future__ import annotations

from sqlalchemy import select

TYPE_LABELS = {"trial": "Trials", "centre": "Centres", "guideline": "Guidelines", "community": "Community"}
FACET_TITLES = {"status": "Status", "phase": "Phase", "country": "Country", "condition": "Condition",
                "itype": "Intervention type", "age": "Age group", "ckind": "Kind", "network": "Network",
                "publisher": "Publisher", "tumour": "Tumour type", "year": "Year", "kind": "Kind",
                "group_id": "Group", "month": "Month", "type": "Database"}


def _maps() -> dict:
    from app.accounts.forms import COUNTRIES
    from app.directory.models import CENTRE_KINDS, NETWORKS
    from app.trials.models import AGE_GROUP_LABELS, PHASE_LABELS, STATUS_LABELS
    return {"status": STATUS_LABELS, "phase": PHASE_LABELS, "country": COUNTRIES, "age": AGE_GROUP_LABELS,
            "ckind": CENTRE_KINDS, "network": NETWORKS, "type": TYPE_LABELS,
            "kind": {"group": "Groups", "topic": "Topics", "post": "Replies", "event": "Events",
                     "blogpost": "Blog posts"},
            "itype": {}}


def label_facets(facets: dict) -> dict:
    """name -> [(code, label, count)]; group names only for groups already in the allowed hits."""
    maps = _maps()
    out = {}
    for name, pairs in facets.items():
        if name == "group_id":
            maps["group_id"] = _group_names([v for v, _c in pairs])
        table = maps.get(name, {})
        out[name] = [(value, str(table.get(value, value.replace("_", " ").capitalize() if name == "itype" else value)), count)
                     for value, count in pairs]
    return out


def _group_names(values) -> dict:
    from app.extensions import db
    from app.groups.models import Group
    ids = [int(v) for v in values if str(v).isdigit()]
    if not ids:
        return {}
    return {str(i): n for i, n in db.session.execute(select(Group.id, Group.name).where(Group.id.in_(ids)))}

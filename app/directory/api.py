"""GET /api/centres (the browse filters, incl. near me) and /api/centres/<slug>."""
from __future__ import annotations

from flask import abort, jsonify, url_for
from sqlalchemy import select

from app.directory import bp, services
from app.directory.countries import name_for
from app.directory.models import Centre
from app.directory.params import page_args
from app.extensions import db


def centre_summary(centre: Centre, km: float | None = None) -> dict:
    data = {"slug": centre.slug, "name": centre.name, "kind": centre.kind, "city": centre.city,
            "country": centre.country, "country_name": name_for(centre.country), "lat": centre.lat,
            "lon": centre.lon, "networks": centre.network_codes,
            "url": url_for("directory.show", slug=centre.slug, _external=True)}
    if km is not None:
        data["distance_km"] = round(km, 1)
    return data


@bp.get("/api/centres")
def api_index():
    filters = services.CentreFilters.from_request()
    number, size = page_args(default_size=25)
    rows, page = services.browse(filters, number, size)
    return jsonify(total=page.total, page=page.number, per_page=page.size,
                   results=[centre_summary(c, km) for c, km in rows])


@bp.get("/api/centres/<slug>")
def api_show(slug: str):
    centre = db.session.scalar(select(Centre).where(Centre.slug == slug))
    if centre is None:
        abort(404)
    data = centre_summary(centre)
    data.update(aliases=centre.aliases, address=centre.address, state=centre.state, zip=centre.zip,
                website=centre.website, specialties=centre.specialties, languages=centre.languages,
                contact=centre.contact,
                trials=[{"nct_id": t.nct_id, "title": t.brief_title, "status": t.status,
                         "url": url_for("trials.show", nct_id=t.nct_id, _external=True)}
                        for t in services.trials_at(centre)])
    return jsonify(data)

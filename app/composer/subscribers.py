"""Side effects of writing: when a file is deleted, the places that embedded it are rendered
again, so they say "[file removed]" instead of showing a broken image."""
from app.composer.render import render_for
from app.core import events
from app.extensions import db
from app.media.uses import BY_KIND


@events.media_deleted.connect
def rerender_places(_media_id, places=(), **_kw) -> None:
    for kind, ident in places:
        place = BY_KIND[kind]
        obj = db.session.get(place.model, ident)
        if obj is not None and place.source:
            setattr(obj, place.html, str(render_for(getattr(obj, place.owner), getattr(obj, place.source), strict=False)))
    db.session.commit()

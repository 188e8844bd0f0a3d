"""Read-only JSON for groups: the same queries and the same policy as the pages, minimal fields.
A closed group's size and members, like on its landing page, are for people inside it."""
from flask import abort, jsonify, request, url_for
from flask_login import current_user

from app import policy
from app.groups import bp, queries
from app.groups.routes import load_group, load_inside


def _summary(group, counts: dict) -> dict:
    data = {"slug": group.slug, "name": group.name, "kind": group.kind, "tags": group.tag_list,
            "country": group.country, "network": group.network or None, "archived": group.is_archived,
            "url": url_for("groups.show", slug=group.slug)}
    if group.id in counts:
        data["member_count"] = counts[group.id]
    return data


@bp.get("/api/groups")
def api_directory():
    filters, errors = queries.parse_filters(request.args)
    if errors:
        abort(400, description="; ".join(f"{name}: {message}" for name, message in errors.items()))
    result = queries.directory(current_user, filters, queries.page_number(request.args), facets=False)
    return jsonify(total=result.total, page=result.page, pages=result.pages,
                   groups=[_summary(g, result.member_counts) for g in result.groups])


@bp.get("/api/groups/<slug>")
def api_show(slug):
    group = load_group(slug)
    counts = queries.member_counts([group.id]) if policy.can_view_inside(current_user, group) else {}
    data = _summary(group, counts)
    data["description_html"] = group.description_html
    return jsonify(data)


@bp.get("/api/groups/<slug>/members")
def api_members(slug):
    group = load_inside(slug)
    rows, total = queries.members(group, queries.page_number(request.args))
    return jsonify(total=total, members=[
        {"id": m.user_id, "display_name": m.user.display_name, "role": m.role} for m in rows])

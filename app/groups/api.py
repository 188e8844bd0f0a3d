"""Read-only JSON for groups: the same queries and the same policy as the pages, minimal fields.
A closed group's size and members, like on its landing page, are for people inside it."""
from flask import abort, jsonify, request, url_for
from flask_login import current_user

from app import policy
from app.core.pagination import page_arg
from app.groups import bp, queries


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
    result = queries.directory(current_user, filters, page_arg(), facets=False)
    return jsonify(total=result.total, page=result.page, pages=result.pages,
                   groups=[_summary(g, result.member_counts) for g in result.groups])


@bp.get("/api/groups/<slug>")
def api_show(slug):
    group = policy.group_or_404(slug, inside=False)
    counts = queries.member_counts([group.id]) if policy.can_view_inside(current_user, group) else {}
    data = _summary(group, counts)
    data["description_html"] = group.description_html
    return jsonify(data)


@bp.get("/api/groups/<slug>/members")
def api_members(slug):
    group = policy.group_or_404(slug)
    rows, total = queries.members(group, page_arg())
    return jsonify(total=total, members=[
        {"id": m.user_id, "display_name": m.user.display_name, "role": m.role} for m in rows])

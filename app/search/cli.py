"""`flask search rebuild` and `flask search check` (names are stable; see README)."""
import click
from flask import current_app
from flask.cli import AppGroup

search_cli = AppGroup("search", help="Build and verify the search index.")


@search_cli.command("rebuild")
@click.option("--if-empty", is_flag=True, help="Only build when there is no index or it is empty.")
def rebuild_cmd(if_empty: bool) -> None:
    """Rebuild the whole index beside the live one, then swap (a crash leaves the old one)."""
    from app.search.indexer import ensure_built, rebuild
    base = current_app.config["SEARCH_INDEX_DIR"]
    count = ensure_built(base, progress=True) if if_empty else rebuild(base, progress=True)
    click.echo("search index already built" if count is None else f"search index rebuilt: {count} rows")


@search_cli.command("check")
def check_cmd() -> None:
    """Compare the database with the index; exit 1 on any difference."""
    from app.search.indexer import check
    report = check(current_app.config["SEARCH_INDEX_DIR"])
    bad = False
    for kind, diff in report.items():
        missing, extra = diff["missing"], diff["extra"]
        bad = bad or bool(missing or extra)
        click.echo(f"{kind:10} missing {len(missing):6} extra {len(extra):6}"
                   + (f"  e.g. missing {missing[:5]} extra {extra[:5]}" if missing or extra else ""))
    if bad:
        click.echo("index differs from the database: run `flask search rebuild`", err=True)
        raise SystemExit(1)
    click.echo("index matches the database")

"""`flask search rebuild`, `flask search check` (names are stable; see README) and `flask search drain`."""
import click
from flask import current_app
from flask.cli import AppGroup

from app.search import writer
from app.search.indexer import check, ensure_built, rebuild
from app.search.outbox import backlog

search_cli = AppGroup("search", help="Build and verify the search index.")


@search_cli.command("rebuild")
@click.option("--if-empty", is_flag=True, help="Only build when there is no index or it is empty.")
def rebuild_cmd(if_empty: bool) -> None:
    """Rebuild the whole index beside the live one, then swap (a crash leaves the old one)."""
    base = current_app.config["SEARCH_INDEX_DIR"]
    count = ensure_built(base, progress=True) if if_empty else rebuild(base, progress=True)
    click.echo("search index already built" if count is None else f"search index rebuilt: {count} rows")


@search_cli.command("check")
def check_cmd() -> None:
    """Compare the database with the index; exit 1 on any difference."""
    report = check(current_app.config["SEARCH_INDEX_DIR"])
    bad = False
    for kind, diff in report.items():
        missing, extra = diff["missing"], diff["extra"]
        bad = bad or bool(missing or extra)
        click.echo(f"{kind:10} missing {len(missing):6} extra {len(extra):6}"
                   + (f"  e.g. missing {missing[:5]} extra {extra[:5]}" if missing or extra else ""))
    waiting = backlog()
    click.echo(f"outbox     pending {waiting['pending']:6} oldest {waiting['oldest_seconds']}s")
    if bad:
        click.echo("index differs from the database: run `flask search rebuild`", err=True)
        raise SystemExit(1)
    click.echo("index matches the database")


@search_cli.command("drain")
@click.option("--batch", default=500, show_default=True, help="Outbox rows per index commit.")
def drain_cmd(batch: int) -> None:
    """Apply the pending outbox rows to the index now, in this process (waits for the lock)."""
    try:
        count = writer.drain(limit=batch, lock_timeout=writer.SYNC_LOCK_TIMEOUT)
    except writer.Locked:
        raise click.ClickException("the index stayed locked by another writer; the rows stay in the outbox")
    click.echo(f"search outbox drained: {count} rows")

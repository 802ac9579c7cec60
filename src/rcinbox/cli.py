"""The ``rcinbox`` command line. Thin: parse, set up logging, call into the package."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from rcinbox import logs

app = typer.Typer(
    add_completion=False, no_args_is_help=True, help="Receive, archive and answer RingCentral SMS/MMS."
)


@app.command()
def emulator(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port for HTTP and WebSocket.")] = 8090,
    data: Annotated[Path | None, typer.Option(help="Account data, TOML or JSON (see README).")] = None,
    access_ttl: Annotated[int, typer.Option(help="Access token lifetime, seconds.")] = 3600,
    refresh_ttl: Annotated[int, typer.Option(help="Refresh token lifetime, seconds.")] = 604800,
    recovery_timeout: Annotated[int, typer.Option(help="WebSocket session recovery window, seconds.")] = 180,
    latency_ms: Annotated[int, typer.Option(help="Modelled round trip added to every answer.")] = 0,
    log_level: Annotated[str, typer.Option(help="DEBUG, INFO, WARNING.")] = "INFO",
) -> None:
    """Serve the local RingCentral platform emulator (REST, OAuth, WebHook, WebSocket)."""
    from rcinbox.emulator.data import DataError
    from rcinbox.emulator.runner import serve
    from rcinbox.emulator.world import Limits

    logs.setup(log_level)
    limits = Limits(
        access_ttl=access_ttl,
        refresh_ttl=refresh_ttl,
        recovery_timeout=recovery_timeout,
        latency_ms=latency_ms,
    )

    async def main() -> None:
        async with serve(host, port, data, limits) as running:
            typer.echo(f"RingCentral emulator on {running.url}  (state: {running.url}/_emulator/state)")
            await asyncio.Event().wait()

    try:
        asyncio.run(main())
    except DataError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    except KeyboardInterrupt:
        pass


def main() -> None:
    app()

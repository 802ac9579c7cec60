"""The ``rcinbox`` command line. Thin: parse, set up logging, call into the package."""

from __future__ import annotations

import asyncio
import inspect
import os
from collections.abc import Callable
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


def _run_command() -> Callable[..., None]:
    """``rcinbox run``: one option per setting, built from :data:`rcinbox.settings.FIELDS`, each
    ``--help`` line naming its environment variable. Flags are handed to ``Settings.from_env`` as
    text, so a bad flag is refused with the same strict parsing (and the flag's name)."""
    from rcinbox.settings import FIELDS

    def run(env_file: Path, **flags: str | None) -> None:
        _run_service(env_file, flags)

    params = [
        inspect.Parameter(
            "env_file",
            inspect.Parameter.KEYWORD_ONLY,
            default=typer.Option(Path(".env"), "--env-file", help="Read settings from this .env file too."),
            annotation=Path,
        )
    ]
    for field in FIELDS:
        shown = f" Default: {field.default}." if field.default and not field.secret else ""
        choices = f" One of: {', '.join(field.choices)}." if field.choices else ""
        option = typer.Option(
            None, field.flag, help=f"{field.help}{choices}{shown} Env: {field.env}.", metavar=field.metavar
        )
        params.append(
            inspect.Parameter(
                field.name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=str | None
            )
        )
    run.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    run.__annotations__ = {p.name: p.annotation for p in params} | {"return": None}
    run.__doc__ = "Run the service: receive, archive and auto-reply until Ctrl-C."
    return run


def _run_service(env_file: Path, flags: dict[str, str | None]) -> None:
    from rcinbox.errors import ConfigError, PlatformError, RulesError
    from rcinbox.service import run_until_signalled
    from rcinbox.settings import Settings

    try:
        settings = Settings.from_env(os.environ, env_file, **flags)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    logs.setup(settings.log_level)
    try:
        asyncio.run(run_until_signalled(settings))
    except (ConfigError, RulesError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    except PlatformError as exc:
        typer.echo(f"error: RingCentral refused: {exc}", err=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        pass


app.command("run")(_run_command())


def main() -> None:
    app()

"""The ``rcinbox`` command line. Thin: parse, set up logging, call into the package.

Each command imports what it needs when it runs, so ``rcinbox --help`` loads no service, store,
HTTP client or emulator (``tests/unit/test_cli_imports.py`` checks which modules each loads).
"""

from __future__ import annotations

import inspect
import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Literal

import typer

from rcinbox.cli.db import app as db_commands

SECRET_FLAG_NOTE = " Prefer the environment or .env: a flag is visible in `ps` and the shell history."

ENV_FILE_HELP = "Read settings from this .env file too (it must exist). Default: ./.env when present."

# Plain help (click's): typer's rich panels cost rich's markdown and traceback renderers on every
# ``--help`` (about 40 ms of the ~85 ms start-up; the footprint benchmark's figure).
app = typer.Typer(
    no_args_is_help=True, rich_markup_mode=None, help="Receive, archive and answer RingCentral SMS/MMS."
)


def _show_version(value: bool) -> None:
    if value:
        from importlib.metadata import version

        typer.echo(f"rcinbox {version('rcinbox')}")
        raise typer.Exit()


@app.callback()
def _options(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=_show_version, is_eager=True, help="Print rcinbox's version and exit."
        ),
    ] = False,
) -> None:
    """Receive, archive and answer RingCentral SMS/MMS."""


@app.command()
def emulator(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port for HTTP and WebSocket.")] = 8090,
    data: Annotated[Path | None, typer.Option(help="Account data, TOML or JSON (see README).")] = None,
    access_ttl: Annotated[int, typer.Option(help="Access token lifetime, seconds.")] = 3600,
    refresh_ttl: Annotated[int, typer.Option(help="Refresh token lifetime, seconds.")] = 604800,
    recovery_timeout: Annotated[int, typer.Option(help="WebSocket session recovery window, seconds.")] = 180,
    latency_ms: Annotated[int, typer.Option(help="Modelled round trip added to every answer.")] = 0,
    rate_limits: Annotated[
        bool,
        typer.Option(
            help="Enforce RingCentral's per-user rate limits (Light 50, Medium 40, Heavy 10, Auth 5/min)."
        ),
    ] = True,
    ws_subscription_id_header: Annotated[
        bool,
        typer.Option(
            help="Compatibility: send the 2021 WSG-SubscriptionId header on WebSocket subscription answers."
        ),
    ] = False,
    log_level: Annotated[str, typer.Option(help="DEBUG, INFO, WARNING.")] = "INFO",
    print_env: Annotated[
        bool,
        typer.Option(
            "--print-env",
            help="Print the RC_* lines for .env (this --host/--port, the app, a user's JWT) and exit.",
        ),
    ] = False,
    extension: Annotated[
        str | None,
        typer.Option(help="With --print-env: whose JWT (an extension id; default the first).", metavar="ID"),
    ] = None,
) -> None:
    """Serve the local RingCentral platform emulator (REST, OAuth, WebHook, WebSocket)."""
    from rcinbox import logs
    from rcinbox.emulator.data import DataError
    from rcinbox.emulator.envlines import EnvError, env_lines
    from rcinbox.emulator.runner import ListenError, serve
    from rcinbox.emulator.world import Limits

    if print_env or extension is not None:
        try:
            if not print_env:
                raise EnvError("--extension only goes with --print-env")
            typer.echo("\n".join(env_lines(host, port, data, extension)))
        except (DataError, EnvError) as exc:
            typer.echo(f"error: {exc}", err=True)
            raise typer.Exit(2) from None
        return
    logs.setup(log_level)
    limits = Limits(
        access_ttl=access_ttl,
        refresh_ttl=refresh_ttl,
        recovery_timeout=recovery_timeout,
        latency_ms=latency_ms,
        ws_subscription_id_header=ws_subscription_id_header,
    )

    import asyncio

    async def main() -> None:
        async with serve(host, port, data, limits) as running:
            if not rate_limits:
                running.emulator.ratelimiter.set_baseline(enabled=False)
            typer.echo(f"RingCentral emulator on {running.url}  (state: {running.url}/_emulator/state)")
            await asyncio.Event().wait()

    try:
        asyncio.run(main())
    except DataError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    except ListenError as exc:
        typer.echo(f"error: {exc.advice()}", err=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        pass


def _run_command() -> Callable[..., None]:
    """``rcinbox run``: one option per setting, built from :data:`rcinbox.settings.FIELDS`, each
    ``--help`` line naming its environment variable. Flags are handed to ``Settings.from_env`` as
    text, so a bad flag is refused with the same strict parsing (and the flag's name)."""
    from rcinbox.settings import FIELDS

    def run(env_file: Path | None, **flags: str | None) -> None:
        _run_service(env_file, flags)

    params = [
        inspect.Parameter(
            "env_file",
            inspect.Parameter.KEYWORD_ONLY,
            default=typer.Option(None, "--env-file", help=ENV_FILE_HELP, metavar="PATH"),
            annotation=Path | None,
        )
    ]
    for field in FIELDS:
        shown = f" Default: {field.default}." if field.default and not field.secret else ""
        choices = f" One of: {', '.join(field.choices)}." if field.choices else ""
        help_text = (
            f"{field.help}{choices}{shown} Env: {field.env}.{SECRET_FLAG_NOTE if field.secret else ''}"
        )
        option = typer.Option(None, field.flag, help=help_text, metavar=field.metavar)
        params.append(
            inspect.Parameter(
                field.name, inspect.Parameter.KEYWORD_ONLY, default=option, annotation=str | None
            )
        )
    run.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    run.__annotations__ = {p.name: p.annotation for p in params} | {"return": None}
    run.__doc__ = "Run the service: receive, archive and auto-reply until Ctrl-C."
    return run


def _run_service(env_file: Path | None, flags: dict[str, str | None]) -> None:
    _without_httpx_command_line()
    import asyncio

    from rcinbox import logs
    from rcinbox.errors import (
        ConfigError,
        DataDirInUse,
        ListenError,
        PlatformError,
        RulesError,
        SchemaError,
        StoreUnavailable,
        TransportError,
    )
    from rcinbox.service.app import run_until_signalled
    from rcinbox.settings import Settings, env_file_to_read

    try:
        settings = Settings.from_env(os.environ, env_file_to_read(env_file), **flags)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    logs.setup(settings.log_level)
    try:
        asyncio.run(run_until_signalled(settings))
    except (ConfigError, RulesError, SchemaError) as exc:  # SchemaError: a newer rcinbox's archive
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    except PlatformError as exc:
        typer.echo(f"error: RingCentral refused: {exc}", err=True)
        raise typer.Exit(1) from None
    except TransportError as exc:  # no answer at all, after a few quick tries (about 4 s)
        typer.echo(
            f"error: cannot reach RingCentral at {settings.server_url} ({logs.redact(str(exc))}); "
            "check RC_SERVER_URL and this machine's network, then run `rcinbox doctor`",
            err=True,
        )
        raise typer.Exit(1) from None
    except (DataDirInUse, ListenError, StoreUnavailable, OSError) as exc:  # another rcinbox, the port …
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    except KeyboardInterrupt:
        pass


def _without_httpx_command_line() -> None:
    """httpx imports its own command line (``httpx._main``: click, rich's progress and syntax,
    pygments; about 6 MB and 40 ms) whenever those are installed, as rich is here for the CLI.
    The service never runs it: marking the module absent makes httpx skip it (it then defines a
    ``main`` that says the CLI is not installed), before anything in this process imports httpx."""
    import sys

    sys.modules.setdefault("httpx._main", None)  # type: ignore[arg-type]


app.command("run")(_run_command())


@app.command()
def demo(
    once: Annotated[
        bool, typer.Option("--once", help="Exit after the table: 0 if every decision matched.")
    ] = False,
    transport: Annotated[str, typer.Option(help="websocket or webhook.", metavar="KIND")] = "websocket",
    data_dir: Annotated[
        Path, typer.Option(help="Demo data directory (wiped at every run).", metavar="PATH")
    ] = Path("rcinbox-data/demo"),
) -> None:
    """Bundled emulator + service with demo rules; plays a scripted conversation, then serves."""
    from rcinbox.cli.demo import DemoOptions, run_demo

    if transport not in ("websocket", "webhook"):
        typer.echo(f"error: --transport must be websocket or webhook, got {transport!r}", err=True)
        raise typer.Exit(2)
    kind: Literal["websocket", "webhook"] = "webhook" if transport == "webhook" else "websocket"
    raise typer.Exit(run_demo(DemoOptions(once=once, transport=kind, data_dir=data_dir)))


@app.command()
def messages(
    limit: Annotated[int, typer.Option(min=1, help="How many messages, newest first.")] = 50,
    json: Annotated[bool, typer.Option("--json", help="Print a JSON array instead of a table.")] = False,
    data_dir: Annotated[
        str | None,
        typer.Option(help="Data directory (its rcinbox.db). Env: RCINBOX_DATA_DIR.", metavar="PATH"),
    ] = None,
    database_url: Annotated[
        str | None, typer.Option(help="Archive database URL. Env: RCINBOX_DATABASE_URL.", metavar="URL")
    ] = None,
    timezone: Annotated[
        str | None,
        typer.Option(
            help="Show times in this IANA time zone. Default: the rules' vacation.timezone, else local time.",
            metavar="ZONE",
        ),
    ] = None,
    env_file: Annotated[Path | None, typer.Option(help=ENV_FILE_HELP, metavar="PATH")] = None,
) -> None:
    """List the archive with each message's decision and reply state."""
    from rich.console import Console

    from rcinbox.cli import messages as view
    from rcinbox.errors import ConfigError, SchemaError, StoreError
    from rcinbox.settings import env_file_to_read

    try:
        chosen = env_file_to_read(env_file)
        settings = view.archive_settings(os.environ, chosen, data_dir=data_dir, database_url=database_url)
        zone = view.display_zone(settings.rules, timezone)
    except ConfigError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    try:
        entries = view.read_archive(settings.database_url, limit)
    except view.NoArchive as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    except (SchemaError, ConfigError) as exc:  # older or newer than this rcinbox reads; a bad URL
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    except StoreError as exc:  # the database unreachable (StoreUnavailable) or failing
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(1) from None
    if json:
        typer.echo(view.archive_json(entries, settings.data_dir))
    else:
        console = Console(highlight=False)
        console.print(view.archive_table(entries, zone, console.width))


@app.command()
def doctor(
    env_file: Annotated[Path | None, typer.Option(help=ENV_FILE_HELP, metavar="PATH")] = None,
) -> None:
    """Check settings, credentials, scopes, numbers, the subscription, rules and data directory."""
    from rcinbox.cli.doctor import run_doctor
    from rcinbox.errors import ConfigError
    from rcinbox.settings import Settings, env_file_to_read

    try:
        chosen = env_file_to_read(env_file)
    except ConfigError as exc:  # a mistyped --env-file: nothing to diagnose yet
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    try:
        settings: Settings | ConfigError = Settings.from_env(os.environ, chosen)
    except ConfigError as exc:  # reported as the first (failed) check
        settings = exc
    raise typer.Exit(run_doctor(settings))


@app.command()
def classify(
    texts: Annotated[
        list[str] | None, typer.Argument(help="Texts to classify. None: each line of standard input.")
    ] = None,
    rules: Annotated[
        Path | None,
        typer.Option(help="Rules file ([smart] names the backend). Env: RCINBOX_RULES.", metavar="PATH"),
    ] = None,
    json: Annotated[bool, typer.Option("--json", help="Print JSON lines instead of tab-separated.")] = False,
) -> None:
    """Print the intent the smart-reply classifier chooses for each text: intent, confidence, text."""
    import sys

    from rcinbox.cli.classify import classifier_from_rules, classify_lines
    from rcinbox.cli.messages import archive_settings
    from rcinbox.errors import ClassifierError, ConfigError, RulesError
    from rcinbox.settings import env_file_to_read

    try:
        chosen = str(rules) if rules else None
        settings = archive_settings(os.environ, env_file_to_read(None), rules=chosen)
        classifier, min_confidence = classifier_from_rules(settings.rules)
    except (ConfigError, RulesError, ClassifierError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    for line in classify_lines(classifier, min_confidence, texts if texts else sys.stdin, json):
        typer.echo(line)


app.add_typer(db_commands, name="db")


def main() -> None:
    app()

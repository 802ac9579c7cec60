"""Settings: the ONLY place rcinbox reads its configuration from the environment.

``Settings.from_env(environ, env_file, **overrides)`` merges, lowest first: built-in defaults, the
``env_file`` (read with python-dotenv's ``dotenv_values``, never written into ``os.environ``), the
process environment, and ``overrides`` (the CLI flags, keyed by field name; ``None`` means "flag
not given"). Every value is parsed strictly and a bad one raises
:class:`~rcinbox.errors.ConfigError` naming the variable. :func:`env_file_to_read` picks the file a command
reads: ``--env-file`` when given (it must exist: a typo is an error, not silently ignored), else
``./.env`` when there is one.

:data:`FIELDS` describes each setting (field, variable, CLI flag, help, default shown) so the CLI
builds ``rcinbox run --help`` from it. Secrets (client secret, JWTs) never appear in ``repr`` nor in
an error message.
"""

from __future__ import annotations

import difflib
import io
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Any, Literal, get_args
from urllib.parse import urlsplit

from rcinbox import settings_parsers as parse
from rcinbox.errors import ConfigError, UnknownSetting
from rcinbox.passwords import PasswordHash, parse_admin_password
from rcinbox.sender_jwts import NO_SENDER_JWTS, SenderJwts, parse_sender_jwts

Transport = Literal["websocket", "webhook"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"]
LogFormat = Literal["text", "json"]
AttachmentStorage = Literal["files", "database"]
PRODUCTION_SERVER = "https://platform.ringcentral.com"
WEBHOOK_EXPIRES_IN = 7 * 24 * 3600  # the platform's default; at most 10 years (PLATFORM.md §6)
DOTENV = Path(".env")  # read when present and no --env-file is given


@dataclass(frozen=True)
class Field:
    """One setting: dataclass field name, environment variable, CLI flag and help text."""

    name: str
    env: str
    flag: str
    help: str
    default: str  # as shown in --help ("" = required / none)
    secret: bool = False
    choices: tuple[str, ...] = ()
    metavar: str = "TEXT"

    def describe(self) -> str:
        """Help text for ``--help``: what it is, the variable, and the default."""
        default = (
            f"; default {self.default}" if self.default else ("; required" if self.name in REQUIRED else "")
        )
        return f"{self.help} [env {self.env}{default}]"


FIELDS: tuple[Field, ...] = (
    Field(
        "server_url",
        "RC_SERVER_URL",
        "--server-url",
        "RingCentral API server.",
        PRODUCTION_SERVER,
        metavar="URL",
    ),
    Field("client_id", "RC_APP_CLIENT_ID", "--client-id", "App client id (Developer Console).", ""),
    Field("client_secret", "RC_APP_CLIENT_SECRET", "--client-secret", "App client secret.", "", secret=True),
    Field("jwt", "RC_USER_JWT", "--jwt", "JWT credential of the user to log in as.", "", secret=True),
    Field(
        "transport",
        "RCINBOX_TRANSPORT",
        "--transport",
        "How notifications arrive.",
        "websocket",
        choices=get_args(Transport),
    ),
    Field(
        "webhook_url",
        "RCINBOX_WEBHOOK_URL",
        "--webhook-url",
        "Public HTTPS address RingCentral posts to (webhook transport); served at its path.",
        "",
        metavar="URL",
    ),
    Field(
        "webhook_expires_in",
        "RCINBOX_WEBHOOK_EXPIRES_IN",
        "--webhook-expires-in",
        "Lifetime asked for the WebHook subscription, seconds (renewed with a third left).",
        "604800",
        metavar="INTEGER",
    ),
    Field("host", "RCINBOX_HOST", "--host", "Address of the local HTTP server.", "127.0.0.1"),
    Field("port", "RCINBOX_PORT", "--port", "Port of the local HTTP server.", "8080", metavar="INTEGER"),
    Field(
        "database_url",
        "RCINBOX_DATABASE_URL",
        "--database-url",
        "SQLAlchemy URL of the archive database.",
        "sqlite+aiosqlite:///<DATA_DIR>/rcinbox.db",
        metavar="URL",
    ),
    Field(
        "data_dir",
        "RCINBOX_DATA_DIR",
        "--data-dir",
        "Directory for the database, attachments and the token file.",
        "./rcinbox-data",
        metavar="PATH",
    ),
    Field(
        "attachment_storage",
        "RCINBOX_ATTACHMENT_STORAGE",
        "--attachment-storage",
        "Where MMS attachments are kept: files under DATA_DIR/attachments, or in the database "
        "(every replica serves them; backed up with it).",
        "files on SQLite, database on PostgreSQL",
        choices=get_args(AttachmentStorage),
    ),
    Field("rules", "RCINBOX_RULES", "--rules", "Reply rules (TOML).", "./rcinbox.toml", metavar="PATH"),
    Field(
        "extensions",
        "RCINBOX_EXTENSIONS",
        "--extensions",
        "Comma-separated extension ids to receive for (super admin); default the JWT user.",
        "",
        metavar="IDS",
    ),
    Field(
        "sender_jwts",
        "RCINBOX_SENDER_JWTS",
        "--sender-jwts",
        "Comma-separated extensionId=JWT pairs: the credential that sends replies for each other "
        "extension in RCINBOX_EXTENSIONS (nobody may send SMS for another user, not even a super admin).",
        "",
        secret=True,
        metavar="ID=JWT,...",
    ),
    Field("log_level", "RCINBOX_LOG_LEVEL", "--log-level", "Log level.", "INFO", choices=get_args(LogLevel)),
    Field(
        "log_format",
        "RCINBOX_LOG_FORMAT",
        "--log-format",
        "Log lines as text, or one JSON object per line (for a log collector).",
        "text",
        choices=get_args(LogFormat),
    ),
    Field(
        "metrics_public",
        "RCINBOX_METRICS_PUBLIC",
        "--metrics-public",
        "Serve /metrics without signing in (true/false); else the dashboard's session or password.",
        "false",
        metavar="BOOLEAN",
    ),
    Field(
        "admin_password",
        "RCINBOX_ADMIN_PASSWORD",
        "--admin-password",
        "Web dashboard password (hashed at once); unset: one is generated at first start and shown once.",
        "",
        secret=True,
    ),
)
BY_ENV: Mapping[str, Field] = {f.env: f for f in FIELDS}
BY_NAME: Mapping[str, Field] = {f.name: f for f in FIELDS}
REQUIRED = ("client_id", "client_secret", "jwt")


@dataclass(frozen=True, repr=False)
class Settings:
    """Everything rcinbox is configured with (see :data:`FIELDS`); build it with :meth:`from_env`."""

    client_id: str
    client_secret: str
    jwt: str
    server_url: str = PRODUCTION_SERVER
    transport: Transport = "websocket"
    webhook_url: str | None = None
    webhook_expires_in: int = WEBHOOK_EXPIRES_IN
    host: str = "127.0.0.1"
    port: int = 8080
    database_url: str = ""  # "" → sqlite file in data_dir (filled in by __post_init__)
    data_dir: Path = Path("rcinbox-data")
    attachment_storage: AttachmentStorage | None = None  # None → by the database (__post_init__)
    rules: Path = Path("rcinbox.toml")
    extensions: tuple[str, ...] = ()  # () = the JWT user
    sender_jwts: SenderJwts = NO_SENDER_JWTS
    log_level: LogLevel = "INFO"
    log_format: LogFormat = "text"
    metrics_public: bool = False  # /metrics without the dashboard's session or password
    admin_password: PasswordHash | None = None  # the dashboard's; only its hash is kept

    def __post_init__(self) -> None:
        if not self.database_url:
            object.__setattr__(self, "database_url", default_database_url(self.data_dir))
        if self.attachment_storage is None:
            object.__setattr__(self, "attachment_storage", default_attachment_storage(self.database_url))
        if self.transport == "webhook" and not self.webhook_url:
            raise ConfigError(
                "RCINBOX_TRANSPORT=webhook needs RCINBOX_WEBHOOK_URL (the public HTTPS address "
                "RingCentral posts notifications to)"
            )
        if (
            self.webhook_url
            and _is_production(self.server_url)
            and not self.webhook_url.startswith("https://")
        ):
            raise ConfigError("RCINBOX_WEBHOOK_URL must be an https:// URL: RingCentral only posts to HTTPS")
        stray = [ext for ext in self.sender_jwts.extensions if ext not in self.extensions]
        if stray:
            raise ConfigError(
                f"RCINBOX_SENDER_JWTS names extension(s) {', '.join(stray)} not in RCINBOX_EXTENSIONS: "
                "a sender credential is only used for an extension rcinbox receives for"
            )

    def __repr__(self) -> str:
        parts = [f"{f.name}={_shown(BY_NAME[f.name], getattr(self, f.name))}" for f in fields(self)]
        return f"Settings({', '.join(parts)})"

    __str__ = __repr__

    @property
    def token_file(self) -> Path:
        """Where the OAuth session is persisted (mode 0600) so a restart reuses it."""
        return self.data_dir / "tokens.json"

    def sender_token_file(self, extension_id: str) -> Path:
        """Where the session of an extension's sender credential is persisted (mode 0600)."""
        return self.data_dir / f"tokens-{extension_id}.json"

    @property
    def webhook_path(self) -> str:
        """The local path the webhook endpoint is served at (the public URL's path)."""
        return urlsplit(self.webhook_url or "").path or "/"

    def with_overrides(self, **overrides: Any) -> Settings:
        """A copy with some fields changed (a default database follows a new ``data_dir``, a
        default attachment storage a new database)."""
        if "data_dir" in overrides and self.database_url == default_database_url(self.data_dir):
            overrides.setdefault("database_url", "")
        if self.attachment_storage == default_attachment_storage(self.database_url):
            overrides.setdefault("attachment_storage", None)
        return replace(self, **overrides)

    @classmethod
    def from_env(
        cls,
        environ: Mapping[str, str],
        env_file: Path | None = None,
        **overrides: Any,
    ) -> Settings:
        """Build settings from defaults < ``env_file`` < ``environ`` < ``overrides`` (CLI flags).

        ``env_file`` ``None`` reads no file; a file that cannot be read is a :class:`ConfigError`.
        """
        raw: dict[str, str] = {}
        if env_file is not None:
            raw.update(_known(env_file, _env_file_values(env_file)))
        raw.update(_known(None, environ))
        values: dict[str, Any] = {}
        for env, text in raw.items():
            if text.strip():
                field = BY_ENV[env]
                values[field.name] = PARSERS[field.name](env, text.strip())
        for name, value in overrides.items():
            if name not in BY_NAME:
                raise ConfigError(f"unknown setting {name!r}")
            if value is not None:
                flag = BY_NAME[name].flag
                values[name] = PARSERS[name](flag, value.strip()) if isinstance(value, str) else value
        missing = [BY_NAME[n].env for n in REQUIRED if not values.get(n)]
        if missing:
            raise ConfigError(f"missing required setting(s): {', '.join(missing)} (environment or .env)")
        return cls(**values)


def env_file_to_read(given: Path | None) -> Path | None:
    """``given`` (``--env-file``; it must exist, ``/dev/null`` for none), else ``./.env`` if present."""
    if given is None:
        return DOTENV if DOTENV.is_file() else None
    if not given.exists() or given.is_dir():
        problem = "is a directory" if given.is_dir() else "does not exist"
        raise ConfigError(f"--env-file {given} {problem}: give the path of an existing .env file")
    return given


def _env_file_values(path: Path) -> dict[str, str]:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise ConfigError(f"cannot read the .env file {path}: {why}") from None
    from dotenv import dotenv_values  # here: a command that reads no .env file does not load it

    return {k: v for k, v in dotenv_values(stream=io.StringIO(text)).items() if v is not None}


def default_database_url(data_dir: Path) -> str:
    return f"sqlite+aiosqlite:///{data_dir / 'rcinbox.db'}"


def default_attachment_storage(database_url: str) -> AttachmentStorage:
    """``database`` on PostgreSQL (replicas share it: a file would stay on one machine), else ``files``."""
    return "database" if database_url.startswith("postgresql") else "files"


def _shown(field: Field, value: object) -> str:
    """How ``repr`` shows a value: secrets masked (sender JWTs keep their extension ids)."""
    if field.secret and value:
        return repr(value) if isinstance(value, SenderJwts) else "'***'"
    return repr(_mask_password(value))


def _mask_password(value: object) -> object:
    """``scheme://user:password@host`` → ``scheme://user:***@host`` (database URLs)."""
    return re.sub(r"(://[^:/@]*:)[^@/]*@", r"\1***@", value) if isinstance(value, str) else value


def _is_production(server_url: str) -> bool:
    host = urlsplit(server_url).hostname or ""
    return host == "ringcentral.com" or host.endswith(".ringcentral.com")


# Read by rcinbox's test tooling (the spec-validation and official-SDK tests), not settings.
TOOLING_VARIABLES = frozenset({"RCINBOX_OPENAPI_SPEC", "RCINBOX_SDK_PYTHON"})


def _known(source: Path | None, values: Mapping[str, str]) -> dict[str, str]:
    """Our variables from ``values``; an unknown ``RCINBOX_*`` name is a typo and refused."""
    known = {k: v for k, v in values.items() if k in BY_ENV}
    ours = {env.removeprefix("RCINBOX_"): env for env in BY_ENV if env.startswith("RCINBOX_")}
    for key in values:
        if key.startswith("RCINBOX_") and key not in BY_ENV and key not in TOOLING_VARIABLES:
            # Compared without the shared prefix: RCINBOX_API_KEY is no typo of RCINBOX_PORT.
            guess = difflib.get_close_matches(key.removeprefix("RCINBOX_"), list(ours), n=1)
            raise UnknownSetting(key, source, ours[guess[0]] if guess else None)
    return known


# ---- parsers: (variable or flag name, text) -> value; errors name the variable ----


PARSERS: Mapping[str, Callable[[str, str], Any]] = {
    "server_url": parse.url,
    "client_id": parse.text,
    "client_secret": parse.text,
    "jwt": parse.text,
    "transport": parse.choice(get_args(Transport)),
    "webhook_url": parse.url,
    "webhook_expires_in": parse.seconds_between(15, 315360000),
    "host": parse.text,
    "port": parse.port,
    "database_url": parse.database_url,
    "data_dir": parse.path,
    "attachment_storage": parse.choice(get_args(AttachmentStorage)),
    "rules": parse.path,
    "extensions": parse.extensions,
    "sender_jwts": parse_sender_jwts,
    "log_level": parse.choice(get_args(LogLevel), upper=True),
    "log_format": parse.choice(get_args(LogFormat)),
    "metrics_public": parse.boolean,
    "admin_password": parse_admin_password,
}

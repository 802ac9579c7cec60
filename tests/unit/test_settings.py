from __future__ import annotations

import dataclasses
import os
from pathlib import Path

import pytest

from rcinbox.errors import ConfigError
from rcinbox.settings import FIELDS, Settings, env_file_to_read

CREDS = {
    "RC_APP_CLIENT_ID": "client-id-1",
    "RC_APP_CLIENT_SECRET": "s3cretVALUE99",
    "RC_USER_JWT": "eyJhbGciOi.jwtBODY.sig",
}


def test_defaults_match_the_issue() -> None:
    s = Settings.from_env(CREDS, env_file=None)
    assert s.server_url == "https://platform.ringcentral.com"
    assert (s.client_id, s.client_secret, s.jwt) == ("client-id-1", "s3cretVALUE99", "eyJhbGciOi.jwtBODY.sig")
    assert s.transport == "websocket"
    assert s.webhook_url is None
    assert s.webhook_expires_in == 604800  # the platform's default lifetime
    assert (s.host, s.port) == ("127.0.0.1", 8080)
    assert s.data_dir == Path("rcinbox-data")
    assert s.database_url == "sqlite+aiosqlite:///rcinbox-data/rcinbox.db"
    assert s.rules == Path("rcinbox.toml")
    assert s.extensions == ()
    assert s.log_level == "INFO"
    assert (s.log_format, s.metrics_public) == ("text", False)
    assert s.token_file == Path("rcinbox-data/tokens.json")
    assert s.attachment_storage == "files"  # SQLite: the attachments are files in the data directory


def test_every_variable_is_parsed() -> None:
    env = {
        **CREDS,
        "RC_SERVER_URL": "http://127.0.0.1:8090/",
        "RCINBOX_TRANSPORT": "WebHook",
        "RCINBOX_WEBHOOK_URL": "https://example.com/hooks/rc",
        "RCINBOX_WEBHOOK_EXPIRES_IN": "900",
        "RCINBOX_HOST": "0.0.0.0",
        "RCINBOX_PORT": "9001",
        "RCINBOX_DATA_DIR": "/var/lib/rcinbox",
        "RCINBOX_RULES": "/etc/rcinbox.toml",
        "RCINBOX_EXTENSIONS": " 101, 102 ,101",
        "RCINBOX_LOG_LEVEL": "debug",
        "RCINBOX_LOG_FORMAT": "JSON",
        "RCINBOX_METRICS_PUBLIC": "True",
    }
    s = Settings.from_env(env, env_file=None)
    assert s.server_url == "http://127.0.0.1:8090"
    assert s.transport == "webhook"
    assert s.webhook_url == "https://example.com/hooks/rc"
    assert s.webhook_path == "/hooks/rc"
    assert s.webhook_expires_in == 900
    assert (s.host, s.port) == ("0.0.0.0", 9001)
    assert s.database_url == "sqlite+aiosqlite:////var/lib/rcinbox/rcinbox.db"
    assert s.rules == Path("/etc/rcinbox.toml")
    assert s.extensions == ("101", "102")
    assert s.log_level == "DEBUG"
    assert (s.log_format, s.metrics_public) == ("json", True)


@pytest.mark.parametrize(
    ("text", "public"),
    [("true", True), ("1", True), ("yes", True), ("false", False), ("0", False), ("off", False)],
)
def test_metrics_public_reads_the_usual_booleans(text: str, public: bool) -> None:
    assert (
        Settings.from_env({**CREDS, "RCINBOX_METRICS_PUBLIC": text}, env_file=None).metrics_public is public
    )


def test_precedence_env_file_then_environ_then_flags(tmp_path: Path) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text(
        "RC_APP_CLIENT_ID=from-file\nRC_APP_CLIENT_SECRET=file-secret\nRC_USER_JWT=file.jwt.x\n"
        "RCINBOX_PORT=7000\nRCINBOX_HOST=10.0.0.1\nRCINBOX_LOG_LEVEL=WARNING\nOTHER_TOOL_VAR=1\n"
    )
    s = Settings.from_env(
        {"RCINBOX_PORT": "7100", "RCINBOX_HOST": "10.0.0.2"}, env_file, port="7200", host=None
    )
    assert s.client_id == "from-file"
    assert s.port == 7200  # flag > environ > .env
    assert s.host == "10.0.0.2"  # environ > .env; a flag not given (None) changes nothing
    assert s.log_level == "WARNING"
    assert "RCINBOX_PORT" not in os.environ  # .env is read, never exported


def test_empty_values_mean_unset() -> None:
    s = Settings.from_env({**CREDS, "RCINBOX_WEBHOOK_URL": "", "RCINBOX_EXTENSIONS": ""}, env_file=None)
    assert s.webhook_url is None
    assert s.extensions == ()


def test_a_missing_default_env_file_is_fine_a_missing_given_one_is_an_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    assert env_file_to_read(None) is None  # no ./.env: nothing to read
    (tmp_path / ".env").write_text("RCINBOX_PORT=7100\n")
    assert env_file_to_read(None) == Path(".env")
    assert env_file_to_read(Path(os.devnull)) == Path(os.devnull)  # "no file at all"
    with pytest.raises(ConfigError) as missing:
        env_file_to_read(Path("prod.env"))
    assert str(missing.value) == "--env-file prod.env does not exist: give the path of an existing .env file"
    with pytest.raises(ConfigError, match=r"^--env-file .* is a directory"):
        env_file_to_read(tmp_path)
    with pytest.raises(ConfigError, match=r"^cannot read the \.env file prod\.env: No such file"):
        Settings.from_env(CREDS, Path("prod.env"))


def test_database_url_explicit_and_following_data_dir() -> None:
    s = Settings.from_env({**CREDS, "RCINBOX_DATABASE_URL": "postgresql+asyncpg://u:pw@db/rc"}, env_file=None)
    assert s.database_url == "postgresql+asyncpg://u:pw@db/rc"
    t = Settings.from_env(CREDS, env_file=None, data_dir="/srv/x")
    assert t.database_url == "sqlite+aiosqlite:////srv/x/rcinbox.db"
    moved = t.with_overrides(data_dir=Path("/srv/y"))
    assert moved.database_url == "sqlite+aiosqlite:////srv/y/rcinbox.db"


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({"RCINBOX_PORT": "80a"}, "RCINBOX_PORT must be a port number 0-65535, got '80a'"),
        ({"RCINBOX_PORT": "70000"}, "RCINBOX_PORT must be a port number 0-65535, got '70000'"),
        (
            {"RCINBOX_TRANSPORT": "pubnub"},
            "RCINBOX_TRANSPORT must be one of websocket, webhook, got 'pubnub'",
        ),
        (
            {"RCINBOX_LOG_LEVEL": "loud"},
            "RCINBOX_LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL",
        ),
        (
            {"RCINBOX_LOG_FORMAT": "jsno"},
            "RCINBOX_LOG_FORMAT must be one of text, json, got 'jsno'",
        ),
        (
            {"RCINBOX_ATTACHMENT_STORAGE": "databse"},
            "RCINBOX_ATTACHMENT_STORAGE must be one of files, database, got 'databse'",
        ),
        (
            {"RCINBOX_METRICS_PUBLIC": "ture"},
            "RCINBOX_METRICS_PUBLIC must be true or false, got 'ture'",
        ),
        (
            {"RCINBOX_EXTENSIONS": "101,~,abc"},
            "RCINBOX_EXTENSIONS must be comma-separated numeric extension ids",
        ),
        ({"RC_SERVER_URL": "platform.ringcentral.com"}, "RC_SERVER_URL must be an http(s) URL"),
        (
            {"RCINBOX_WEBHOOK_EXPIRES_IN": "5"},
            "RCINBOX_WEBHOOK_EXPIRES_IN must be a whole number of seconds from 15 to 315360000, got '5'",
        ),
        (
            {"RCINBOX_WEBHOOK_EXPIRES_IN": "1w"},
            "RCINBOX_WEBHOOK_EXPIRES_IN must be a whole number of seconds from 15 to 315360000",
        ),
        ({"RCINBOX_DATABASE_URL": "rcinbox.db"}, "RCINBOX_DATABASE_URL must be an SQLAlchemy URL"),
        (
            {"RCINBOX_TRANSPRT": "webhook"},
            "unknown setting RCINBOX_TRANSPRT (did you mean RCINBOX_TRANSPORT?)",
        ),
        ({"RCINBOX_TRANSPORT": "webhook"}, "RCINBOX_TRANSPORT=webhook needs RCINBOX_WEBHOOK_URL"),
        (
            {"RCINBOX_TRANSPORT": "webhook", "RCINBOX_WEBHOOK_URL": "http://example.com/rc"},
            "RCINBOX_WEBHOOK_URL must be an https:// URL",
        ),
    ],
)
def test_bad_values_name_the_variable(env: dict[str, str], expected: str) -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env({**CREDS, **env}, env_file=None)
    assert str(info.value).startswith(expected)


def test_missing_credentials_are_listed_together() -> None:
    with pytest.raises(ConfigError) as info:
        Settings.from_env({"RC_APP_CLIENT_ID": "x"}, env_file=None)
    assert (
        str(info.value)
        == "missing required setting(s): RC_APP_CLIENT_SECRET, RC_USER_JWT (environment or .env)"
    )


def test_bad_flag_names_the_flag_and_unknown_override_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"^--port must be a port number"):
        Settings.from_env(CREDS, env_file=None, port="http")
    with pytest.raises(ConfigError, match="unknown setting 'colour'"):
        Settings.from_env(CREDS, env_file=None, colour="red")


def test_webhook_over_http_is_fine_against_an_emulator() -> None:
    env = {
        **CREDS,
        "RC_SERVER_URL": "http://127.0.0.1:8090",
        "RCINBOX_TRANSPORT": "webhook",
        "RCINBOX_WEBHOOK_URL": "http://127.0.0.1:8080/rc/hook",
    }
    assert Settings.from_env(env, env_file=None).webhook_path == "/rc/hook"


def test_repr_never_shows_secrets() -> None:
    s = Settings.from_env(
        {**CREDS, "RCINBOX_DATABASE_URL": "postgresql://rc:dbPassw0rd@db/rc"}, env_file=None
    )
    text = repr(s) + str(s) + f"{s}"
    for secret in ("s3cretVALUE99", "eyJhbGciOi", "dbPassw0rd"):
        assert secret not in text
    assert "client_secret='***'" in text and "jwt='***'" in text
    assert "client_id='client-id-1'" in text
    assert "postgresql://rc:***@db/rc" in text


def test_fields_table_describes_every_setting() -> None:
    names = [f.name for f in dataclasses.fields(Settings)]
    assert sorted(f.name for f in FIELDS) == sorted(names)
    assert len({f.env for f in FIELDS}) == len(FIELDS)
    assert len({f.flag for f in FIELDS}) == len(FIELDS)
    by_env = {f.env: f for f in FIELDS}
    assert by_env["RC_SERVER_URL"].default == "https://platform.ringcentral.com"
    assert by_env["RCINBOX_TRANSPORT"].choices == ("websocket", "webhook")
    secrets = {f.env for f in FIELDS if f.secret}
    assert secrets == {"RC_APP_CLIENT_SECRET", "RC_USER_JWT", "RCINBOX_SENDER_JWTS", "RCINBOX_ADMIN_PASSWORD"}
    assert all(f.help and f.flag.startswith("--") for f in FIELDS)
    assert (
        by_env["RCINBOX_PORT"].describe() == "Port of the local HTTP server. [env RCINBOX_PORT; default 8080]"
    )
    assert by_env["RC_USER_JWT"].describe().endswith("[env RC_USER_JWT; required]")


def test_settings_are_frozen() -> None:
    s = Settings.from_env(CREDS, env_file=None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.port = 1  # type: ignore[misc]


def test_the_environment_is_read_in_one_place() -> None:
    """Only settings.py reads the environment; the CLI merely hands ``os.environ`` to it."""
    src = Path(__file__).resolve().parents[2] / "src" / "rcinbox"
    readers = {
        str(path.relative_to(src))
        for path in src.rglob("*.py")
        for line in path.read_text(encoding="utf-8").splitlines()
        if any(word in line for word in ("os.environ", "getenv(", "dotenv"))
        and not (
            path.parent.name == "cli" and ("from_env(os.environ" in line or "settings(os.environ" in line)
        )
    }
    assert readers == {"settings.py"}


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        ({}, "files"),
        ({"RCINBOX_DATABASE_URL": "postgresql+asyncpg://rc@db/rcinbox"}, "database"),
        ({"RCINBOX_ATTACHMENT_STORAGE": "Database"}, "database"),
        (
            {
                "RCINBOX_DATABASE_URL": "postgresql+asyncpg://rc@db/rcinbox",
                "RCINBOX_ATTACHMENT_STORAGE": "files",
            },
            "files",
        ),
    ],
)
def test_attachment_storage_defaults_by_the_database(env: dict[str, str], expected: str) -> None:
    """Replicas share a PostgreSQL database, not a disk: there the attachments go into it."""
    assert Settings.from_env({**CREDS, **env}, env_file=None).attachment_storage == expected


def test_a_default_attachment_storage_follows_a_new_database() -> None:
    s = Settings.from_env(CREDS, env_file=None)
    assert s.with_overrides(database_url="postgresql+asyncpg://rc@db/x").attachment_storage == "database"
    chosen = Settings.from_env({**CREDS, "RCINBOX_ATTACHMENT_STORAGE": "database"}, env_file=None)
    assert chosen.with_overrides(data_dir=Path("/srv/z")).attachment_storage == "database"

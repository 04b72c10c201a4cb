"""Config.from_env: defaults, derived values and refusals (DESIGN §10)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from api.config import DEFAULT_WORKERS, Config
from keys import ConfigError
from tests.conftest import TEST_MASTER_KEY


def test_defaults_with_an_empty_environment() -> None:
    config = Config.from_env({})

    assert config.data_dir == Path("var")
    assert config.database_url == f"sqlite:///{Path('var').resolve()}/credbank.sqlite3"
    assert config.base_url == "http://127.0.0.1:8000"
    assert config.log_origin == "127.0.0.1:8000/log"
    assert config.master_key is None
    assert config.redis_url is None
    assert config.workers == DEFAULT_WORKERS
    assert config.master_key_file == Path("var") / "master.key"


def test_data_dir_places_the_sqlite_file_and_the_key_file(tmp_path: Path) -> None:
    config = Config.from_env({"CREDBANK_DATA_DIR": str(tmp_path / "d")})

    assert config.database_url == f"sqlite:///{tmp_path}/d/credbank.sqlite3"
    assert config.master_key_file == tmp_path / "d" / "master.key"


def test_every_variable_is_read() -> None:
    config = Config.from_env(
        {
            "CREDBANK_DATA_DIR": "/srv/credbank",
            "CREDBANK_DATABASE_URL": "postgresql://db.internal/credbank",
            "CREDBANK_MASTER_KEY": TEST_MASTER_KEY,
            "CREDBANK_BASE_URL": "https://creds.example.edu/bank/",
            "CREDBANK_LOG_ORIGIN": "creds.example.edu/log/2026",
            "CREDBANK_REDIS_URL": "redis://cache:6379/0",
            "CREDBANK_WORKERS": "8",
            "CREDBANK_THREADS": "3",
        }
    )

    assert config == Config(
        data_dir=Path("/srv/credbank"),
        database_url="postgresql://db.internal/credbank",
        base_url="https://creds.example.edu/bank",
        log_origin="creds.example.edu/log/2026",
        master_key=TEST_MASTER_KEY,
        redis_url="redis://cache:6379/0",
        workers=8,
        threads=3,
    )


def test_origin_follows_the_base_url_and_its_path() -> None:
    config = Config.from_env({"CREDBANK_BASE_URL": "https://creds.example.edu/bank"})

    assert config.log_origin == "creds.example.edu/bank/log"


def test_empty_variables_count_as_unset() -> None:
    config = Config.from_env(
        {"CREDBANK_MASTER_KEY": "", "CREDBANK_WORKERS": "", "CREDBANK_BASE_URL": ""}
    )

    assert config.master_key is None
    assert config.workers == DEFAULT_WORKERS
    assert config.base_url == "http://127.0.0.1:8000"


@pytest.mark.parametrize(
    "url",
    ["ftp://example.org", "example.org", "http://", "javascript:alert(1)", "/relative"],
)
def test_bad_base_url_is_refused(url: str) -> None:
    with pytest.raises(ConfigError, match="CREDBANK_BASE_URL: expected an http"):
        Config.from_env({"CREDBANK_BASE_URL": url})


@pytest.mark.parametrize("name", ["CREDBANK_WORKERS", "CREDBANK_THREADS"])
@pytest.mark.parametrize("workers", ["0", "-1", "two", "1.5", " 2", "2x", "\u00b2"])
def test_bad_workers_is_refused(name: str, workers: str) -> None:
    with pytest.raises(
        ConfigError,
        match=f"{name}: expected a positive whole number, got '{workers}'",
    ):
        Config.from_env({name: workers})


@pytest.mark.parametrize(
    "origin", ["my log", "log+1", "tab\there", "line\nbreak", "nbsp\u00a0log"]
)
def test_origin_with_a_space_or_plus_is_refused(origin: str) -> None:
    with pytest.raises(ConfigError, match="CREDBANK_LOG_ORIGIN: expected no spaces"):
        Config.from_env({"CREDBANK_LOG_ORIGIN": origin})


def test_origin_derived_from_a_base_url_with_a_plus_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"got 'creds\+1\.example/log'"):
        Config.from_env({"CREDBANK_BASE_URL": "https://creds+1.example"})


@pytest.mark.parametrize(
    "url",
    [
        "sqlite:///var/credbank.sqlite3",
        "postgresql://db.internal/credbank",
        "postgres://db.internal/credbank",
        "postgresql+psycopg://db.internal/credbank",
    ],
)
def test_supported_database_urls_are_accepted(url: str) -> None:
    assert Config.from_env({"CREDBANK_DATABASE_URL": url}).database_url == url


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("nonsense", "expected a database URL$"),
        ("mysql://admin:hunter2@db/credbank", "got mysql://$"),
        ("postgresql+psycopg2://admin:hunter2@db/x", "got postgresql\\+psycopg2://$"),
        ("oracle://admin:hunter2@db", "got oracle://$"),
    ],
)
def test_unsupported_database_urls_are_refused(url: str, message: str) -> None:
    with pytest.raises(ConfigError, match=f"^CREDBANK_DATABASE_URL: .*{message}") as e:
        Config.from_env({"CREDBANK_DATABASE_URL": url})

    assert "hunter2" not in str(e.value)


def test_master_key_is_not_in_the_repr() -> None:
    config = Config.from_env({"CREDBANK_MASTER_KEY": TEST_MASTER_KEY})

    assert config.master_key == TEST_MASTER_KEY
    assert TEST_MASTER_KEY not in repr(config)
    assert TEST_MASTER_KEY not in str(config)
    assert "master_key" not in repr(config)


def test_config_is_frozen() -> None:
    config = Config.from_env({})

    with pytest.raises(AttributeError, match="cannot assign to field"):
        config.workers = 4  # type: ignore[misc]


def test_did_web_hosts_are_a_clean_list() -> None:
    config = Config.from_env({"CREDBANK_DID_WEB_HOSTS": " Issuer.Example, b.example ,"})

    assert config.did_web_hosts == ("issuer.example", "b.example")
    assert Config.from_env({}).did_web_hosts == ()


@pytest.mark.parametrize(
    "hosts", ["https://a.example", "a.example/path", "a example", ".a.example"]
)
def test_did_web_hosts_refuse_anything_but_host_names(hosts: str) -> None:
    with pytest.raises(ConfigError, match="CREDBANK_DID_WEB_HOSTS"):
        Config.from_env({"CREDBANK_DID_WEB_HOSTS": hosts})


def test_serving_and_logging_variables_are_read() -> None:
    config = Config.from_env(
        {
            "CREDBANK_LOG_FORMAT": "json",
            "CREDBANK_LOG_LEVEL": "debug",
            "CREDBANK_FORWARDED_ALLOW_IPS": "10.0.0.0/8,2001:db8::1, 192.0.2.7",
        }
    )

    assert config.log_format == "json"
    assert config.log_level == "DEBUG"
    assert config.forwarded_allow_ips == ("10.0.0.0/8", "2001:db8::1", "192.0.2.7")


def test_serving_and_logging_defaults() -> None:
    config = Config.from_env({})

    assert config.log_format == "text"
    assert config.log_level == "INFO"
    assert config.forwarded_allow_ips == ("127.0.0.1", "::1")
    assert Config.from_env(
        {"CREDBANK_FORWARDED_ALLOW_IPS": "*"}
    ).forwarded_allow_ips == ("*",)


@pytest.mark.parametrize(
    ("name", "raw", "message"),
    [
        ("CREDBANK_LOG_FORMAT", "JSON", "expected one of text, json, got 'JSON'"),
        ("CREDBANK_LOG_FORMAT", "xml", "expected one of text, json, got 'xml'"),
        ("CREDBANK_LOG_LEVEL", "loud", "expected one of DEBUG, INFO, WARNING, ERROR"),
        (
            "CREDBANK_FORWARDED_ALLOW_IPS",
            "proxy.internal",
            "expected IP addresses or networks, got 'proxy.internal'",
        ),
        (
            "CREDBANK_FORWARDED_ALLOW_IPS",
            "10.0.0.1/8",  # host bits set: not a network
            "expected IP addresses or networks, got '10.0.0.1/8'",
        ),
    ],
)
def test_bad_serving_and_logging_variables_are_refused(
    name: str, raw: str, message: str
) -> None:
    with pytest.raises(ConfigError, match=f"{name}: {re.escape(message)}"):
        Config.from_env({name: raw})

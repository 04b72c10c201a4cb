"""The service's configuration: environment variables read once into a frozen object.

Every variable is documented in README.md (DESIGN §10).
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

from keys.errors import ConfigError

__all__ = ["Config"]

DEFAULT_BASE_URL = "http://127.0.0.1:8000"
DEFAULT_WORKERS = 2
DEFAULT_THREADS = 4
DEFAULT_REVIEW_QUORUM = 2
# Per client address across the public endpoints: ten requests a second on
# average, far more than an office of employers or a browser verifier sends.
DEFAULT_RATE_LIMIT = "600/minute"
# What flask-limiter's storage (the limits package) accepts for Redis.
_REDIS_SCHEMES = {"redis", "rediss", "redis+unix", "redis+sentinel", "redis+cluster"}
LOG_FORMATS = ("text", "json")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
# gunicorn trusts X-Forwarded-Proto only from these; a proxy on the same host.
DEFAULT_FORWARDED_ALLOW_IPS = ("127.0.0.1", "::1")

# The backends credbank supports, with the drivers it installs (DESIGN §10).
_DATABASE_SCHEMES = {
    "sqlite",
    "sqlite+pysqlite",
    "postgres",
    "postgresql",
    "postgresql+psycopg",
}


@dataclass(frozen=True)
class Config:
    """Everything the service reads from its environment."""

    data_dir: Path
    database_url: str
    base_url: str
    log_origin: str
    master_key: str | None = field(default=None, repr=False)
    redis_url: str | None = None
    workers: int = DEFAULT_WORKERS
    threads: int = DEFAULT_THREADS
    review_quorum: int = DEFAULT_REVIEW_QUORUM
    did_web_hosts: tuple[str, ...] = ()
    trusted_platforms: tuple[str, ...] = ()
    # None: no rate limits at all (CREDBANK_RATE_LIMIT=off, for benchmarks).
    rate_limit: str | None = DEFAULT_RATE_LIMIT
    proxies: int = 0
    log_format: str = "text"
    log_level: str = "INFO"
    forwarded_allow_ips: tuple[str, ...] = DEFAULT_FORWARDED_ALLOW_IPS

    @property
    def master_key_file(self) -> Path:
        return self.data_dir / "master.key"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Config:
        env = os.environ if environ is None else environ
        data_dir = Path(env.get("CREDBANK_DATA_DIR") or "var")
        base_url = (env.get("CREDBANK_BASE_URL") or DEFAULT_BASE_URL).rstrip("/")
        parts = urlsplit(base_url)
        if parts.scheme not in {"http", "https"} or not parts.netloc:
            raise ConfigError(
                f"CREDBANK_BASE_URL: expected an http(s) URL, got {base_url!r}"
            )
        origin = env.get("CREDBANK_LOG_ORIGIN") or f"{parts.netloc}{parts.path}/log"
        if "+" in origin or any(ch.isspace() for ch in origin):
            raise ConfigError(
                f"CREDBANK_LOG_ORIGIN: expected no spaces or '+', got {origin!r}"
            )
        database_url = env.get("CREDBANK_DATABASE_URL") or (
            f"sqlite:///{(data_dir / 'credbank.sqlite3').resolve()}"
        )
        _check_database_url(database_url)
        return cls(
            data_dir=data_dir,
            database_url=database_url,
            base_url=base_url,
            log_origin=origin,
            master_key=env.get("CREDBANK_MASTER_KEY") or None,
            redis_url=_redis_url(env.get("CREDBANK_REDIS_URL") or None),
            workers=_positive_int(env, "CREDBANK_WORKERS", DEFAULT_WORKERS),
            threads=_positive_int(env, "CREDBANK_THREADS", DEFAULT_THREADS),
            review_quorum=_positive_int(
                env, "CREDBANK_REVIEW_QUORUM", DEFAULT_REVIEW_QUORUM
            ),
            did_web_hosts=_hosts(env.get("CREDBANK_DID_WEB_HOSTS", "")),
            trusted_platforms=_platforms(env.get("CREDBANK_TRUSTED_PLATFORMS", "")),
            rate_limit=_rate_limit(env.get("CREDBANK_RATE_LIMIT")),
            proxies=_count(env, "CREDBANK_PROXIES"),
            log_format=_choice(env, "CREDBANK_LOG_FORMAT", LOG_FORMATS, "text"),
            log_level=_choice(
                env, "CREDBANK_LOG_LEVEL", LOG_LEVELS, "INFO", upper=True
            ),
            forwarded_allow_ips=_addresses(env.get("CREDBANK_FORWARDED_ALLOW_IPS")),
        )


def _check_database_url(url: str) -> None:
    # The URL may hold a password: messages name its scheme only.
    try:
        scheme = make_url(url).drivername
    except ArgumentError as exc:
        raise ConfigError("CREDBANK_DATABASE_URL: expected a database URL") from exc
    if scheme not in _DATABASE_SCHEMES:
        raise ConfigError(
            "CREDBANK_DATABASE_URL: expected a sqlite:// or postgresql:// URL, "
            f"got {scheme}://"
        )


def _positive_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name)
    if not raw:
        return default
    # isdigit() alone admits digits int() refuses, such as '²'.
    if not (raw.isascii() and raw.isdigit()) or int(raw) < 1:
        raise ConfigError(f"{name}: expected a positive whole number, got {raw!r}")
    return int(raw)


def _count(env: Mapping[str, str], name: str) -> int:
    """A whole number, 0 when unset."""
    raw = env.get(name)
    if not raw:
        return 0
    if not (raw.isascii() and raw.isdigit()):
        raise ConfigError(f"{name}: expected a whole number, got {raw!r}")
    return int(raw)


def _rate_limit(raw: str | None) -> str | None:
    """A flask-limiter rate such as '600/minute' (several joined by ';'), 'off'
    for none, or the default when unset."""
    if not raw:
        return DEFAULT_RATE_LIMIT
    if raw.strip().lower() == "off":
        return None
    # Loaded here, not with the module: the command line reads the configuration
    # and mostly needs no rate limits.
    from limits import parse_many

    try:
        parse_many(raw)
    except ValueError as exc:
        raise ConfigError(
            f"CREDBANK_RATE_LIMIT: expected a rate such as '600/minute' or 'off', "
            f"got {raw!r}"
        ) from exc
    return raw.strip()


def _redis_url(url: str | None) -> str | None:
    # The URL may hold a password: messages name its scheme only.
    if url is None:
        return None
    scheme = urlsplit(url).scheme
    if scheme not in _REDIS_SCHEMES or "://" not in url:
        raise ConfigError(
            f"CREDBANK_REDIS_URL: expected a redis:// or rediss:// URL, got {scheme}://"
        )
    return url


def _choice(
    env: Mapping[str, str],
    name: str,
    choices: tuple[str, ...],
    default: str,
    *,
    upper: bool = False,
) -> str:
    raw = env.get(name)
    if not raw:
        return default
    value = raw.upper() if upper else raw
    if value not in choices:
        raise ConfigError(f"{name}: expected one of {', '.join(choices)}, got {raw!r}")
    return value


def _addresses(raw: str | None) -> tuple[str, ...]:
    """Proxy addresses or networks, comma-separated, or '*' for any."""
    if not raw:
        return DEFAULT_FORWARDED_ALLOW_IPS
    items = tuple(item.strip() for item in raw.split(",") if item.strip())
    for item in items:
        if item == "*":
            continue
        try:
            ipaddress.ip_network(item)
        except ValueError as exc:
            raise ConfigError(
                "CREDBANK_FORWARDED_ALLOW_IPS: expected IP addresses or networks, "
                f"got {item!r}"
            ) from exc
    return items


def _hosts(raw: str) -> tuple[str, ...]:
    """A comma-separated allow-list of did:web host names (no scheme, no path)."""
    hosts = tuple(host.strip().lower() for host in raw.split(",") if host.strip())
    for host in hosts:
        if not all(ch.isalnum() or ch in ".-" for ch in host) or host[0] in ".-":
            raise ConfigError(
                f"CREDBANK_DID_WEB_HOSTS: expected host names, got {host!r}"
            )
    return hosts


def _platforms(raw: str) -> tuple[str, ...]:
    """Issuers whose credentials learners may deposit: DIDs, or did:web hosts."""
    platforms = tuple(item.strip() for item in raw.split(",") if item.strip())
    for platform in platforms:
        if any(ch.isspace() for ch in platform) or platform.startswith(
            ("http:", "https:")
        ):
            raise ConfigError(
                "CREDBANK_TRUSTED_PLATFORMS: expected DIDs or host names, "
                f"got {platform!r}"
            )
    return platforms

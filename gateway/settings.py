"""One Settings object, read once from the environment and the instance folder.

All state lives in one instance folder, ``GATEWAY_HOME`` (default ``./instance``): the
SQLite file, signing keys and ``gateway.toml``. Only the database moves out of it, when
``DATABASE_URL`` is set.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from gateway.errors import ConfigError

DEFAULT_MAPPING = "cn-trace-to-eu-passport@1.2.0"


@dataclass(frozen=True)
class Settings:
    """Resolved configuration.

    :ivar home: the instance folder.
    :ivar base_url: public HTTPS base of this gateway; passport ids live under it.
    :ivar database_url: SQLAlchemy URL; defaults to SQLite in ``home``.
    :ivar mapping: default mapping set and version, ``SET@VERSION``.
    :ivar max_body_bytes: largest request body accepted.
    :ivar allow_network: let the verifier resolve ``did:web`` over the network.
    :ivar trusted_issuers: issuer DIDs or did:web domains added to the instance-wide trust
        list kept in the database (``gateway trust``); with no entry anywhere the
        verifier's issuer check is "not evaluated", never a pass.
    :ivar job_chunk_records: records per chunk of a bulk job (what one worker claims).
    :ivar job_lease_seconds: how long a worker holds a chunk before another may take it
        over (a worker that was killed); renewed while the chunk is worked on.
    :ivar max_job_records: most records one bulk job may hold.
    :ivar job_retention_days: how long a finished job and its outcome lines are kept
        (the passports it issued are kept as any other).
    """

    home: Path = Path("instance")
    base_url: str = "http://127.0.0.1:8080"
    database_url: str = ""
    mapping: str = DEFAULT_MAPPING
    max_body_bytes: int = 10 * 1024 * 1024
    allow_network: bool = False
    trusted_issuers: tuple[str, ...] = field(default_factory=tuple)
    job_chunk_records: int = 64
    job_lease_seconds: int = 300
    max_job_records: int = 100_000
    job_retention_days: int = 30

    @property
    def db_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.home / 'gateway.sqlite').resolve()}"

    @property
    def has_store(self) -> bool:
        """Whether a database exists to read: configured, or the instance's SQLite file."""
        return bool(self.database_url) or (self.home / "gateway.sqlite").is_file()

    @property
    def keys_dir(self) -> Path:
        return self.home / "keys"

    @classmethod
    def load(cls, overrides: Mapping[str, Any] | None = None) -> Settings:
        """Read ``GATEWAY_HOME/gateway.toml``, then ``GATEWAY_*`` and ``DATABASE_URL``
        from the environment, then ``overrides``; validate once.

        :raises ConfigError: on an unknown key or a value of the wrong type.
        """
        env = os.environ
        # The folder is named, never searched for: GATEWAY_HOME (``~`` expanded) or
        # ./instance, so a command finds the same instance however it was started.
        home = Path(
            (overrides or {}).get("home") or env.get("GATEWAY_HOME", "instance")
        ).expanduser()
        values: dict[str, Any] = {"home": home}
        toml_path = home / "gateway.toml"
        if toml_path.is_file():
            with toml_path.open("rb") as fh:
                values.update(tomllib.load(fh))
        names = {f.name for f in fields(cls)}
        for name in names - {"home"}:
            key = "DATABASE_URL" if name == "database_url" else f"GATEWAY_{name.upper()}"
            if key in env:
                values[name] = env[key]
        values.update(overrides or {})
        unknown = set(values) - names
        if unknown:
            raise ConfigError(f"unknown setting(s): {', '.join(sorted(unknown))}")
        return cls()._coerce(values)

    def _coerce(self, values: Mapping[str, Any]) -> Settings:
        out: dict[str, Any] = {}
        for f in fields(self):
            if f.name not in values:
                continue
            raw = values[f.name]
            default = getattr(self, f.name)
            try:
                if isinstance(default, bool):
                    out[f.name] = (
                        raw
                        if isinstance(raw, bool)
                        else str(raw).lower() in {"1", "true", "yes", "on"}
                    )
                elif isinstance(default, int):
                    out[f.name] = int(raw)
                elif isinstance(default, Path):
                    out[f.name] = Path(raw)
                elif isinstance(default, tuple):
                    items = raw.split(",") if isinstance(raw, str) else raw
                    out[f.name] = tuple(i.strip() for i in items if i.strip())
                else:
                    out[f.name] = str(raw)
            except (TypeError, ValueError) as exc:
                raise ConfigError(f"setting {f.name}: {exc}") from exc
        settings = replace(self, **out)
        if "@" not in settings.mapping:
            raise ConfigError("setting mapping: expected SET@VERSION")
        for name in (
            "job_chunk_records",
            "job_lease_seconds",
            "max_job_records",
            "job_retention_days",
        ):
            if getattr(settings, name) < 1:
                raise ConfigError(f"setting {name}: must be at least 1")
        return settings

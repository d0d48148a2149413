"""Schema migrations (Alembic), run programmatically: `nightcare db upgrade`."""
from __future__ import annotations

from alembic import command
from alembic.config import Config


def alembic_config(database_url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", "dispatch:migrations")
    # Passed as an attribute, not an ini option: a URL may contain '%' (ini interpolation).
    cfg.attributes["database_url"] = database_url
    return cfg


def upgrade(database_url: str, revision: str = "head") -> None:
    command.upgrade(alembic_config(database_url), revision)


def current(database_url: str) -> None:
    command.current(alembic_config(database_url), verbose=False)

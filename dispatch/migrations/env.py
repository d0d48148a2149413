from __future__ import annotations

from alembic import context
from sqlmodel import SQLModel

import dispatch.models  # noqa: F401 - registers every table
from dispatch.db import make_engine

config = context.config
_configured = config.attributes.get("database_url") or config.get_main_option("sqlalchemy.url")
if not _configured:
    raise RuntimeError("no database URL: dispatch.migrate passes it; sqlalchemy.url in alembic.ini otherwise")
database_url: str = _configured


def run_migrations_online() -> None:
    engine = make_engine(database_url, pool_size=1)
    try:
        with engine.connect() as connection:
            context.configure(connection=connection, target_metadata=SQLModel.metadata,
                              render_as_batch=connection.dialect.name == "sqlite", compare_type=True)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


def run_migrations_offline() -> None:
    context.configure(url=database_url, target_metadata=SQLModel.metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()

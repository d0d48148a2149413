"""Schema migrations (Alembic), run programmatically: `nightcare db upgrade`; and the service role's rights
on PostgreSQL: `nightcare db grant ROLE`. Both run as the database owner."""
from __future__ import annotations

from alembic import command
from alembic.config import Config
from sqlalchemy import text

from dispatch.db import make_engine

# What the service role may do: read and write rows, nothing else (no DDL, no TRUNCATE, no triggers).
TABLE_RIGHTS = "SELECT, INSERT, UPDATE, DELETE"
SEQUENCE_RIGHTS = "USAGE"


class GrantError(Exception):
    """The role cannot be made the service role (it does not exist, is the owner, or is a superuser)."""


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


def grant(owner_url: str, role: str) -> list[str]:
    """Give `role` exactly the service's rights on the owner's schema, now and for tables later migrations
    create (default privileges of the owner). Returns the statements run."""
    if not owner_url.startswith("postgresql"):
        raise GrantError("roles are a PostgreSQL matter: SQLite has none")
    engine = make_engine(owner_url, pool_size=1)
    try:
        with engine.begin() as conn:
            found = conn.execute(text("SELECT rolsuper, pg_has_role(rolname, current_user, 'MEMBER') AS owner "
                                      "FROM pg_roles WHERE rolname = :role"), {"role": role}).first()
            if found is None:
                raise GrantError(f"no role {role!r}: create it first (CREATE ROLE {role} LOGIN PASSWORD '…')")
            if found.rolsuper:
                raise GrantError(f"{role!r} is a superuser: it can disable the append-only triggers; "
                                 "the service needs a role without superuser rights")
            if found.owner:
                raise GrantError(f"{role!r} is (or is a member of) the role migrations run as, the owner of the "
                                 "tables: the service needs a role of its own")
            schema = conn.execute(text("SELECT current_schema()")).scalar_one()
            who = conn.dialect.identifier_preparer.quote(role)
            where = conn.dialect.identifier_preparer.quote(schema)
            statements = [
                # PostgreSQL before 15 lets every role create tables in `public`.
                f"REVOKE CREATE ON SCHEMA {where} FROM PUBLIC",
                f"GRANT USAGE ON SCHEMA {where} TO {who}",
                f"GRANT {TABLE_RIGHTS} ON ALL TABLES IN SCHEMA {where} TO {who}",
                f"GRANT {SEQUENCE_RIGHTS} ON ALL SEQUENCES IN SCHEMA {where} TO {who}",
                f"ALTER DEFAULT PRIVILEGES IN SCHEMA {where} GRANT {TABLE_RIGHTS} ON TABLES TO {who}",
                f"ALTER DEFAULT PRIVILEGES IN SCHEMA {where} GRANT {SEQUENCE_RIGHTS} ON SEQUENCES TO {who}",
            ]
            for statement in statements:
                conn.execute(text(statement))
            return statements
    finally:
        engine.dispose()

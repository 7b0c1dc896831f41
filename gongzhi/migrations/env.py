"""Alembic environment. Gongzhi passes its own connection (already inside a locked transaction,
see gongzhi.db.migration_connection); the `alembic` command line gets one for DATABASE_URL."""

from alembic import context
from sqlmodel import SQLModel

from gongzhi import logs, models  # noqa: F401 - models registers every table on SQLModel.metadata

logs.install()  # the `alembic` command line too writes no phone or ID number into a log


def _render_item(type_, obj, autogen_context):
    """Write SQLModel's AutoString as plain sa.String, so revisions do not import sqlmodel."""
    from sqlmodel.sql.sqltypes import AutoString

    if type_ == "type" and isinstance(obj, AutoString):
        return f"sa.String(length={obj.length})" if obj.length else "sa.String()"
    return False


def _run(connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=SQLModel.metadata,
        render_as_batch=True,  # SQLite can only change a table by copying it; batch mode does that
        render_item=_render_item,
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = context.config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    from gongzhi.config import database_url
    from gongzhi.db import get_engine, migration_connection

    with migration_connection(get_engine(context.config.get_main_option("sqlalchemy.url") or database_url())) as connection:
        _run(connection)

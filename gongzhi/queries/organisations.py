"""Organisations for select boxes and lists: the lead and co-operating organisations of issues,
event hosts, teams."""

import pandas as pd
from sqlalchemy import select
from sqlmodel import Session

from gongzhi.models import Organisation
from gongzhi.revisions import reads


@reads(Organisation)
def list_organisations(*, session: Session, kinds: tuple[str, ...] | None = None) -> pd.DataFrame:
    """id, name, kind of every organisation (optionally only some kinds), ordered by name."""
    query = select(Organisation.id, Organisation.name, Organisation.kind).where(Organisation.deleted_at.is_(None))
    if kinds:
        query = query.where(Organisation.kind.in_(tuple(kinds)))
    rows = session.execute(query.order_by(Organisation.name, Organisation.id)).all()
    return pd.DataFrame([tuple(r) for r in rows], columns=["id", "name", "kind"])

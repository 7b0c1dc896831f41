"""The issue's timeline (the one record of the five-step loop): every line an issue gets —
created, a move, a rating, a progress note, an assignment, a meeting's deferral — is written
here, by the app, the seeds and the importer alike."""

from datetime import datetime

from sqlmodel import Session

from gongzhi.clock import now
from gongzhi.models import TimelineEntry
from gongzhi.permissions import Actor


def timeline_row(*, issue_id: int, kind: str, actor: Actor, at: datetime, from_state: str | None = None,
                 to_state: str | None = None, note: str = "", meeting_id: int | None = None) -> dict:
    """One timeline line as the row's fields (for bulk inserts)."""
    return {"issue_id": issue_id, "kind": kind, "from_state": from_state, "to_state": to_state,
            "actor": actor.name, "actor_role": actor.role.value, "note": note, "meeting_id": meeting_id,
            "created_at": at}


def record(session: Session, *, issue_id: int, kind: str, actor: Actor, from_state: str | None = None,
           to_state: str | None = None, note: str = "", meeting_id: int | None = None,
           at: datetime | None = None) -> TimelineEntry:
    """Add one line to an issue's timeline in the caller's transaction, dated now unless `at`."""
    entry = TimelineEntry(**timeline_row(issue_id=issue_id, kind=kind, actor=actor, at=at or now(),
                                         from_state=from_state, to_state=to_state, note=note,
                                         meeting_id=meeting_id))
    session.add(entry)
    return entry

"""The yes/no permission questions and the require_* checks are one rule: each require_* refuses
exactly when its question says no, for every role and grid."""

import pytest

from gongzhi.errors import PermissionDenied
from gongzhi.permissions import (
    Actor,
    Role,
    may_rate,
    may_see_phone,
    may_write,
    require_rating,
    require_write,
)
from gongzhi.privacy import phone_for

OWN, OTHER = 1, 2
ACTORS = [Actor(name=role.value, role=role, grid_ids=frozenset({OWN}) if role == Role.LEADER else frozenset())
          for role in Role]


def _allowed(check, actor: Actor, grid_id: int | None) -> bool:
    try:
        check(actor, grid_id=grid_id)
    except PermissionDenied:
        return False
    return True


@pytest.mark.parametrize("actor", ACTORS, ids=[a.role.value for a in ACTORS])
@pytest.mark.parametrize("grid_id", [OWN, OTHER, None])
def test_require_refuses_exactly_when_the_question_says_no(actor, grid_id):
    assert _allowed(require_write, actor, grid_id) == may_write(actor, grid_id)
    assert _allowed(require_rating, actor, grid_id) == may_rate(actor, grid_id)


def test_who_sees_a_phone_in_full():
    admin, committee, leader, representative, public = (next(a for a in ACTORS if a.role == role) for role in (
        Role.ADMIN, Role.COMMITTEE, Role.LEADER, Role.REPRESENTATIVE, Role.PUBLIC))
    assert [may_see_phone(a, OTHER) for a in (admin, committee, leader, representative, public)] == \
        [True, True, False, False, False]
    assert may_see_phone(leader, OWN) and not may_see_phone(leader, None)
    assert phone_for(leader, "+8613800138000", OWN) == "13800138000"
    assert phone_for(leader, "+8613800138000", OTHER) == "138****8000"

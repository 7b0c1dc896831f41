"""Property-based tests (Hypothesis) of the one text validator, gongzhi.validation: whatever text
comes in — control characters, lone surrogates, odd white space, decomposed accents, ID numbers,
too many characters — it either comes out clean and is stored and read back unchanged (on SQLite,
and on PostgreSQL when GONGZHI_TEST_DATABASE_URL is set), or it is refused with a Gongzhi error
whose message reads in both languages. Never a raw exception."""

import unicodedata

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlmodel import Session

from gongzhi.crud.issues import IssueCreate, create_issue
from gongzhi.errors import GongzhiError, ValidationError
from gongzhi.i18n import LANGUAGES, catalogue
from gongzhi.models import Area, Issue
from gongzhi.permissions import Actor, Role
from gongzhi.privacy import contains_national_id
from gongzhi.validation import DESCRIPTION, PERSON_NAME, TITLE, InvalidValue, TextField, clean_text

COMMITTEE = Actor(name="测试秘书", role=Role.COMMITTEE)
ID_NUMBER = "11010519491231002X"
SPECIAL = ["\x00", "\x01", "\x1b", "\x7f", "\x85", "\ud800", "\udfff", "\n", "\r", "\r\n", "\t", " ", "\u3000",
           "\u00a0", "\ufeff", "\u200b", "\u2028", "e\u0301", "\U0001f600", "中", "a", ID_NUMBER]

# Any code point, surrogates included, mixed with the characters most likely to go wrong.
characters = st.characters(exclude_categories=())
pieces = st.one_of(st.text(characters, max_size=8), st.sampled_from(SPECIAL), st.text("议事会甲乙 ", min_size=50,
                                                                                       max_size=130))
texts = st.lists(pieces, max_size=12).map("".join)
specs = st.sampled_from([TITLE, DESCRIPTION, PERSON_NAME])


def _allowed_controls(spec: TextField) -> set[str]:
    return {"\n", "\t"} if spec.long else set()


def _assert_clean(value: str, spec: TextField) -> None:
    assert value == value.strip() and not value.startswith(("\ufeff", "\u200b")) \
        and not value.endswith(("\ufeff", "\u200b"))
    assert not any(unicodedata.category(c) == "Cs" for c in value)
    assert not any(unicodedata.category(c) == "Cc" and c not in _allowed_controls(spec) for c in value)
    assert len(value) <= spec.max_length
    assert not contains_national_id(value)
    assert unicodedata.is_normalized("NFC", value)
    value.encode("utf-8")  # storable


def _assert_readable(error: GongzhiError) -> None:
    assert error.key in catalogue()
    for lang in LANGUAGES:
        message = error.message(lang)
        assert message and "{" not in message and "errors." not in message


@given(text=texts, spec=specs, required=st.booleans())
@settings(max_examples=400, deadline=None)
def test_any_text_comes_out_clean_or_is_refused_with_a_message(text, spec, required):
    try:
        value = clean_text(text, spec, required=required)
    except InvalidValue as refused:
        _assert_readable(refused)
        return
    _assert_clean(value, spec)
    assert clean_text(value, spec, required=required) == value  # cleaning twice changes nothing
    assert value or not required
    # Independently of how it cleans: these can never be stored, wherever they stand.
    assert "\x00" not in text and not any(unicodedata.category(c) == "Cs" for c in text)


@given(text=texts)
@settings(max_examples=200, deadline=None)
def test_a_single_line_field_never_keeps_a_line_break_and_a_long_one_keeps_every_inner_one(text):
    try:
        title = clean_text(text, TITLE)
    except InvalidValue:
        title = None
    assert title is None or not any(c in title for c in "\n\r\x85\x0b\x0c")
    try:
        description = clean_text(text, DESCRIPTION)
    except InvalidValue:
        return
    inner = text.replace("\r\n", "\n").replace("\r", "\n").strip().strip("\ufeff\u200b").strip()
    assert description.count("\n") == inner.count("\n")


@pytest.fixture
def grid(write) -> int:
    with write() as session:
        area = Area(code="GA", name="网格A", level="grid", population=100)
        session.add(area)
        session.flush()
        return area.id


@given(title=texts, description=texts)
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_any_issue_text_round_trips_through_the_database_or_is_refused(write, engine, grid, title, description):
    try:
        with write() as session:
            issue_id = create_issue(session=session, actor=COMMITTEE, data=IssueCreate(
                title=title, description=description, category="repairs", grid_id=grid)).id
    except ValidationError as refused:
        for lang in LANGUAGES:
            assert len(refused.messages(lang)) == len(refused.errors) > 0
        for error in refused.errors:
            assert error.field in ("issues.field_title", "issues.field_description")
            _assert_readable(InvalidValue(error.key, **error.params))
        return
    with Session(engine) as session:
        issue = session.get(Issue, issue_id)
        assert (issue.title, issue.description) == (clean_text(title, TITLE, required=True),
                                                    clean_text(description, DESCRIPTION))

"""No personal data in the logs: mobile numbers (with or without +86/86, spaces, hyphens) and
national ID numbers are masked in every log record's message, arguments and traceback, on any
logger (Streamlit's own, which do not propagate, included), once gongzhi.logs is installed, as the
command line and the migration tool do."""

import io
import logging

import pytest

from gongzhi import cli, logs
from gongzhi.db import get_engine, init_db
from gongzhi.privacy import mask_personal_data

ID_NUMBER = "44030619800101123X"


def captured(logger: logging.Logger) -> io.StringIO:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(levelname)s %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    return stream


@pytest.mark.parametrize("written", [
    "13800138000", "138 0013 8000", "138-0013-8000", "+86 138 0013 8000", "+8613800138000",
    "86 13800138000", "8613800138000", "0086-138-0013-8000", "＋８６１３８００１３８０００",
])
def test_every_way_of_writing_a_mobile_number_is_masked(written):
    masked = mask_personal_data(f"居民电话：{written}。")
    assert masked == "居民电话：138****8000。"


@pytest.mark.parametrize("number", [ID_NUMBER, "440306198001011234", "44030619800101123x"])
def test_national_id_numbers_are_masked_whole(number):
    assert mask_personal_data(f"id={number}, ok") == f"id={'*' * 18}, ok"


@pytest.mark.parametrize("text", ["3栋 1201 室", "issue #1380", "revision 20260315", "总数 12345678901234567890"])
def test_other_numbers_stay(text):
    assert mask_personal_data(text) == text


def fail_with_personal_data():
    raise ValueError(f"row (13800138000, '{ID_NUMBER}') refused")


def test_message_arguments_and_traceback_are_masked_on_any_logger(plain_logging):
    logger = logging.getLogger("tests.logs.any")
    stream = captured(logger)
    logs.install()
    logs.install()  # a second call (every rerun of the app makes one) changes nothing
    logger.info("saved %s for %s", "138-0013-8000", {"id": ID_NUMBER})
    try:
        fail_with_personal_data()
    except ValueError:
        logger.exception("could not save +86 139 1234 5678")
    text = stream.getvalue()
    assert "13800138000" not in text and "0013" not in text and "12345678" not in text
    assert ID_NUMBER not in text and "19800101" not in text
    assert "saved 138****8000 for {'id': '******************'}" in text
    assert "could not save 139****5678" in text
    assert "Traceback (most recent call last)" in text and "fail_with_personal_data" in text
    assert "ValueError: row (138****8000, '******************') refused" in text


def test_streamlit_loggers_are_masked_too(plain_logging):
    from streamlit.logger import get_logger

    logger = get_logger("streamlit.tests_gongzhi_logs")  # its own handler; does not propagate
    stream = io.StringIO()
    logger.streamlit_console_handler.setStream(stream)
    logs.install()
    try:
        fail_with_personal_data()
    except ValueError as error:
        logger.error("Uncaught app execution", exc_info=error)
    text = stream.getvalue()
    assert "Uncaught app execution" in text and "ValueError: row (138****8000" in text
    assert "13800138000" not in text and ID_NUMBER not in text


def test_a_filter_masks_records_made_elsewhere():
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.addFilter(logs.PersonalDataFilter())
    handler.handle(logging.makeLogRecord({"msg": "call %s", "args": ("13800138000",), "levelno": logging.INFO}))
    assert stream.getvalue() == "call 138****8000\n"


def test_the_command_line_installs_the_mask(plain_logging, db_url):
    assert cli.main(["--database-url", db_url, "migrate"]) == 0
    assert getattr(logging.getLogRecordFactory(), "_gongzhi_masks_personal_data", False)


def test_the_migration_environment_installs_the_mask(plain_logging, new_database):
    init_db(get_engine(new_database()))  # runs the alembic environment, as the `alembic` command does
    assert getattr(logging.getLogRecordFactory(), "_gongzhi_masks_personal_data", False)

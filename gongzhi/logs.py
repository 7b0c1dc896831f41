"""No personal data in the logs: every log record the process writes has its mobile numbers and
national ID numbers masked (gongzhi.privacy.mask_personal_data) in its message, its arguments, its
exception text (the traceback) and its stack, before any handler formats it.

`install()` puts the mask into the log record factory, so it covers every logger and every handler,
including those made later and Streamlit's own (which do not propagate to the root logger). The
app calls it at start-up (components.page_setup), the command line in `gongzhi.cli.main`, and the
alembic environment for the `alembic` command. `PersonalDataFilter` is the same mask as a
logging filter, for a handler that receives records made elsewhere (logging.makeLogRecord)."""

from __future__ import annotations

import logging
import traceback

from gongzhi.privacy import mask_personal_data

_INSTALLED_MARK = "_gongzhi_masks_personal_data"


def mask_record(record: logging.LogRecord) -> logging.LogRecord:
    """Format the record's message, exception and stack now, masked, and drop what they were made
    of (arguments, exception object), so no formatter can print them unmasked. Idempotent."""
    try:
        message = record.getMessage()
    except Exception:  # arguments that do not fit the format: say both, as logging itself would
        message = f"{record.msg!s} {record.args!r}"
    record.msg, record.args = mask_personal_data(message), ()
    if record.exc_info and record.exc_info[0] is not None:
        record.exc_text = "".join(traceback.format_exception(*record.exc_info)).rstrip("\n")
    record.exc_info = None
    if record.exc_text:
        record.exc_text = mask_personal_data(record.exc_text)
    if record.stack_info:
        record.stack_info = mask_personal_data(record.stack_info)
    return record


class PersonalDataFilter(logging.Filter):
    """Masks mobile numbers and national ID numbers in every record it sees; drops none."""

    def filter(self, record: logging.LogRecord) -> bool:
        mask_record(record)
        return True


def install() -> None:
    """Mask every log record this process makes from now on. Safe to call again (once per rerun)."""
    factory = logging.getLogRecordFactory()
    if getattr(factory, _INSTALLED_MARK, False):
        return

    def masked_record(*args, **kwargs) -> logging.LogRecord:
        return mask_record(factory(*args, **kwargs))

    setattr(masked_record, _INSTALLED_MARK, True)
    logging.setLogRecordFactory(masked_record)

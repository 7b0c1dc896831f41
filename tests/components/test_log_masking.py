"""The app masks phone and ID numbers in its server log from its first page run on: a record on
Streamlit's own loggers (which print uncaught page errors with their traceback) comes out masked."""

import io

from streamlit.logger import get_logger

ID_NUMBER = "44030619800101123X"


def test_a_page_run_masks_what_streamlit_logs(plain_logging, open_page, demo_url):
    app = open_page(demo_url, "views/overview.py")
    assert not app.exception
    logger = get_logger("streamlit.error_util")  # where Streamlit logs an uncaught page error
    stream = io.StringIO()
    logger.streamlit_console_handler.setStream(stream)  # its own handler, as the server has it now
    try:
        raise ValueError(f"居民 13800138000 身份证 {ID_NUMBER}")
    except ValueError as error:
        logger.error("Uncaught app execution", exc_info=error)
    text = stream.getvalue()
    assert "ValueError: 居民 138****8000 身份证 ******************" in text
    assert "13800138000" not in text and ID_NUMBER not in text

"""Streamlit's own frontend strings in the page's language. Streamlit 1.67 writes "Select all",
"No results", the default placeholders ("Choose options"), the file uploader's words and the "Page
not found" dialog in English, and neither an API parameter nor a config option changes them
(`placeholder=` covers only the placeholder, one widget at a time). So every page carries a
marker with the page language and the translations of exactly those strings
(gongzhi.i18n.frontend_strings), and static/gongzhi-streamlit-strings.js, served by this server
(the Content-Security-Policy runs no inline script), puts them in place as Streamlit draws them."""

import json

import streamlit as st

from components.page_setup import PageContext
from gongzhi.config import static_url_prefix
from gongzhi.escape import escape_text
from gongzhi.i18n import frontend_strings

SCRIPT = "gongzhi-streamlit-strings.js"


def streamlit_strings(ctx: PageContext) -> None:
    table = json.dumps(frontend_strings(ctx.lang), ensure_ascii=False, sort_keys=True)
    st.html(f'<div data-gongzhi-strings="{escape_text(table)}" data-lang="{escape_text(ctx.lang)}"></div>'
            f'<script src="{escape_text(static_url_prefix())}/{SCRIPT}"></script>', unsafe_allow_javascript=True)

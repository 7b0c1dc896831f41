"""Every page of the menu, in both languages, on the demo community and on an empty database:
it renders without an exception, shows its translated title, and no catalogue key shows
untranslated (a missing key is shown as itself)."""

import re

import pytest

from components.navigation import PAGES
from gongzhi import i18n
from gongzhi.permissions import Role

NAMESPACES = {key.split(".")[0] for key in i18n.catalogue()}
KEY_PATTERN = re.compile(r"\b[a-z_]+\.[a-z0-9_]+\b")


def _visible_texts(app) -> list[str]:
    texts = []
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success"):
        texts.extend(str(element.value) for element in getattr(app, kind))
    texts.extend(str(metric.label) for metric in app.metric)
    for kind in ("selectbox", "multiselect", "text_input", "number_input", "date_input", "radio", "button"):
        texts.extend(str(widget.label) for widget in getattr(app, kind))
    return texts


@pytest.mark.parametrize("lang", ["zh-CN", "en"])
@pytest.mark.parametrize("entry", PAGES, ids=[entry.url_path for entry in PAGES])
@pytest.mark.parametrize("database", ["demo", "empty"])
def test_page_renders(open_page, demo_url, db_url, entry, lang, database):
    # The committee where it may; the admin on admin-only pages; signed out on the login page.
    role = "committee" if Role.COMMITTEE in entry.roles else "admin" if Role.ADMIN in entry.roles else None
    app = open_page(demo_url if database == "demo" else db_url, entry.path, lang=lang, role=role)
    assert not app.exception, [e.value for e in app.exception]
    assert app.title[0].value == i18n.translate(lang, entry.title_key)
    leaked = [key for text in _visible_texts(app) for key in KEY_PATTERN.findall(text)
              if key.split(".")[0] in NAMESPACES]
    assert not leaked, leaked

from pathlib import Path

from components.navigation import DEFAULT_PAGE, PAGES

ROOT = Path(__file__).resolve().parents[2]


def test_every_page_file_is_in_the_menu_under_its_own_name():
    files = sorted(path.relative_to(ROOT).as_posix() for path in (ROOT / "views").glob("*.py"))
    assert sorted(entry.path for entry in PAGES) == files
    # A bookmark reads as the page file's name.
    assert all(entry.url_path == Path(entry.path).stem for entry in PAGES)
    assert DEFAULT_PAGE in {entry.url_path for entry in PAGES}

from pathlib import Path

from components.navigation import DEFAULT_PAGE, PAGES

ROOT = Path(__file__).resolve().parents[2]


def test_every_page_file_is_in_the_menu_under_its_own_name():
    files = sorted(path.relative_to(ROOT).as_posix() for path in (ROOT / "pages").glob("*.py"))
    assert sorted(entry.path for entry in PAGES) == files
    # Legacy pages/ mode resolves URLs by file stem; the menu must agree with it.
    assert all(entry.url_path == Path(entry.path).stem for entry in PAGES)
    assert DEFAULT_PAGE in {entry.url_path for entry in PAGES}

"""The menu: every page file with its title key, icon and URL path. Each URL path is the file's
stem, so a bookmark resolves to the same page whether or not Streamlit's legacy pages/ mode is
still on (it is on a process's first run, see components.page_setup.context)."""

from dataclasses import dataclass


@dataclass(frozen=True)
class PageEntry:
    path: str
    title_key: str
    icon: str
    url_path: str


PAGES = [
    PageEntry("pages/overview.py", "nav.overview", ":material/dashboard:", "overview"),
    PageEntry("pages/grid_map.py", "nav.grid_map", ":material/map:", "grid_map"),
    PageEntry("pages/issues.py", "nav.issues", ":material/assignment:", "issues"),
    PageEntry("pages/volunteers.py", "nav.volunteers", ":material/volunteer_activism:", "volunteers"),
    PageEntry("pages/events.py", "nav.events", ":material/event:", "events"),
    PageEntry("pages/meetings.py", "nav.meetings", ":material/groups:", "meetings"),
]
DEFAULT_PAGE = "overview"

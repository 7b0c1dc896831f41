"""The menu: every page file (views/) with its title key, icon, URL path and the roles that may
use it. Each URL path is the file's stem, so a bookmark reads as the page's file name."""

from dataclasses import dataclass

from gongzhi.permissions import Actor, Role

EVERYONE = frozenset(Role)
MEMBERS = frozenset({Role.ADMIN, Role.COMMITTEE, Role.LEADER, Role.REPRESENTATIVE})
ADMINS = frozenset({Role.ADMIN})
SIGNED_OUT = frozenset()  # shown only to someone who has not signed in


@dataclass(frozen=True)
class PageEntry:
    path: str
    title_key: str
    icon: str
    url_path: str
    roles: frozenset[Role]


PAGES = [
    PageEntry("views/overview.py", "nav.overview", ":material/dashboard:", "overview", EVERYONE),
    PageEntry("views/grid_map.py", "nav.grid_map", ":material/map:", "grid_map", EVERYONE),
    PageEntry("views/slideshow.py", "nav.slideshow", ":material/slideshow:", "slideshow", MEMBERS),
    PageEntry("views/issues.py", "nav.issues", ":material/assignment:", "issues", MEMBERS),
    PageEntry("views/screening.py", "residents.nav", ":material/inbox:", "screening",
              frozenset({Role.ADMIN, Role.COMMITTEE, Role.LEADER})),
    PageEntry("views/volunteers.py", "nav.volunteers", ":material/volunteer_activism:", "volunteers", MEMBERS),
    PageEntry("views/events.py", "nav.events", ":material/event:", "events", MEMBERS),
    PageEntry("views/meetings.py", "nav.meetings", ":material/groups:", "meetings", MEMBERS),
    PageEntry("views/audit.py", "nav.audit", ":material/history:", "audit", ADMINS),
    PageEntry("views/accounts.py", "nav.accounts", ":material/manage_accounts:", "accounts", ADMINS),
    PageEntry("views/backups.py", "exports.nav_title", ":material/backup:", "backups", ADMINS),
    PageEntry("views/boundaries.py", "nav.boundaries", ":material/polyline:", "boundaries",
              frozenset({Role.ADMIN, Role.COMMITTEE, Role.LEADER})),
    PageEntry("views/imports.py", "imports.title", ":material/upload_file:", "imports",
              frozenset({Role.ADMIN, Role.COMMITTEE, Role.LEADER})),
    PageEntry("views/my_account.py", "nav.my_account", ":material/account_circle:", "my_account", MEMBERS),
    PageEntry("views/login.py", "nav.login", ":material/login:", "login", SIGNED_OUT),
]
DEFAULT_PAGE = "overview"
LOGIN_PAGE = "login"


DISPLAY_PAGES = ("slideshow",)  # what a screen with a display link shows
DISPLAY_HOME = "display"  # the slideshow again, as a display screen's default page ("/")


def pages_for(actor: Actor | None, *, display: bool = False) -> list[PageEntry]:
    """The menu of this actor. Someone not signed in gets the sign-in page at every page's
    address, so a bookmark (or a session ended meanwhile) shows the sign-in form at that URL,
    never "Page not found"; signing in then returns to it. A display screen gets the slideshow."""
    if actor is None:
        login = next(entry for entry in PAGES if entry.url_path == LOGIN_PAGE)
        return [PageEntry(login.path, login.title_key, login.icon, entry.url_path, SIGNED_OUT) for entry in PAGES]
    if display:
        shown = [entry for entry in PAGES if entry.url_path in DISPLAY_PAGES]
        home = shown[0]
        return [PageEntry(home.path, home.title_key, home.icon, DISPLAY_HOME, home.roles), *shown]
    return [entry for entry in PAGES if actor.role in entry.roles]


def default_page(actor: Actor | None, *, display: bool = False) -> str:
    """The url_path of the page at "/" (Streamlit gives the default page no other address)."""
    return DISPLAY_HOME if display and actor is not None else DEFAULT_PAGE

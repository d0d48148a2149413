"""Every page the service serves, in one place: the home page lists them, `nightcare run` prints them, and
`mount_web` serves the page folders among them.

A page with a folder (`web/static/<folder>/index.html`) exists only when that folder is there: a page being
built elsewhere appears on the home page and in the start-up output the moment its folder lands, and a page
that is removed disappears from both.
"""
from __future__ import annotations

from dataclasses import dataclass
from html import escape
from pathlib import Path

STATIC = Path(__file__).parent / "static"


@dataclass(frozen=True)
class Page:
    path: str  # the URL path, e.g. "/console/"
    title: str
    about: str  # one line on the home page
    logins: str = ""  # the demo logins to try it with, printed by `nightcare run`
    folder: str | None = None  # web/static/<folder>/index.html; None for pages the service itself renders

    def exists(self, static: Path = STATIC) -> bool:
        return self.folder is None or (static / self.folder / "index.html").is_file()


PAGES: tuple[Page, ...] = (
    Page("/console/", "Operator console",
         "the live board: take, triage and follow every call of the night",
         "operator, operator2, backup-operator, coordinator", folder="console"),
    Page("/nurse/", "Nurse app",
         "the night nurse's phone: her jobs, the key safe, the night bag (installable, works offline)",
         "nurse1, nurse2, nurse3", folder="nurse"),
    Page("/partner/", "Partner portal",
         "for the home-care organisations: the night's handover, day tasks, their clients, who looked at "
         "their records, their cost share",
         "partner-de-brink, partner-drentsche-aa, partner-midden-drenthe, partner-vaart-en-wijk", folder="partner"),
    Page("/insight/", "Insight",
         "the coordinator's figures: response times per urgency against the region's targets, calls per hour and "
         "organisation, the night team",
         "coordinator; a partner sees its own clients' nights", folder="insight"),
    Page("/docs", "API reference",
         "every operation, to try in the browser: press Authorize and log in with a demo login",
         "any demo login"),
    Page("/redoc", "API reference (to read)", "the same reference as one document"),
)


def available_pages(static: Path = STATIC) -> list[Page]:
    """The pages that exist, in the order the home page shows them."""
    return [page for page in PAGES if page.exists(static)]


def page_list_html(pages: list[Page]) -> str:
    """The home page's list of pages."""
    return "\n".join(f'    <li><a href="{escape(p.path)}">{escape(p.title)}</a> — {escape(p.about)}</li>'
                     for p in pages)


def home_html(pages: list[Page], static: Path = STATIC) -> str:
    """web/static/index.html with its list of pages filled in."""
    return (static / "index.html").read_text(encoding="utf-8").replace("<!-- pages -->", page_list_html(pages))

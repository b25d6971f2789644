"""A board pack to PDF: the pack's template rendered by Django, laid out by WeasyPrint.

The charts are the dashboard's inline SVG, so they stay vectors in the PDF. The
organization's name, the date and "page N of M" are on every page (CSS `@page` margin
boxes in the template). No network: the template carries its own CSS and no external
resource, so WeasyPrint never fetches anything.
"""

from django.template.loader import render_to_string
from django.utils import timezone

from .data import BoardPack


def render_html(pack: BoardPack) -> str:
    return render_to_string(
        "reports/board_pack/pack.html",
        {"pack": pack, "as_of": pack.as_of, "is_today": pack.as_of == timezone.localdate()},
    )


def render_pdf(pack: BoardPack) -> bytes:
    # Imported here, not at module load: WeasyPrint loads Pango when imported, and a machine
    # without it must still serve every other page (the README says what to install).
    from weasyprint import HTML

    return HTML(string=render_html(pack), base_url=None).write_pdf()


def filename(pack: BoardPack) -> str:
    scope = "portfolio" if pack.portfolio else f"program-{pack.programs[0].program.id}" if pack.programs else "empty"
    return f"board-pack-{pack.organization.slug}-{scope}-{pack.as_of.isoformat()}.pdf"

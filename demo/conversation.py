"""The demo's flags are talked about: a comment and a hand-over, so the flag page's thread,
the new owner's email and My items have something to show (SPEC §5, flag actions).

Run after the demo has been scanned (seed_demo --scan-history): flags exist only then.
Through the same services as the dashboard and the API, as the demo's CEO and office.
"""

from django.contrib.auth import get_user_model

from accountability.choices import LIVE_FLAG_STATUSES, FlagKind
from accountability.flag_actions import flag_assign, flag_comment
from accountability.models import Flag
from programs.models import Organization

from . import DEMO_CEO_USER, DEMO_OFFICE_USER, STRUGGLING_PROGRAM


def talk_about_flags(organization: Organization) -> list[Flag]:
    """The CEO comments on a stalled initiative's flag and hands it to the program's customer
    champion; the office comments on the program's early-bail flag. Returns the flags touched."""
    users = {u.username: u for u in get_user_model().objects.filter(username__in=[DEMO_CEO_USER, DEMO_OFFICE_USER])}
    live = Flag.objects.filter(
        organization=organization, program__name=STRUGGLING_PROGRAM, status__in=LIVE_FLAG_STATUSES
    ).select_related("program__customer_champion", "owner")
    touched = []
    stalled = live.filter(kind=FlagKind.INITIATIVE_STALLED).order_by("id").first()
    ceo = users.get(DEMO_CEO_USER)
    if stalled is not None and ceo is not None:
        flag_comment(flag=stalled, actor=ceo, text="This is the work the board asked about. Who is unblocking it?")
        champion = stalled.program.customer_champion
        if champion is not None and champion.pk != stalled.owner_id:
            flag_assign(
                flag=stalled, owner=champion, actor=ceo, note="Please take this through the steering on Friday."
            )
        touched.append(stalled)
    bail = live.filter(kind=FlagKind.EARLY_BAIL_RISK).first()
    office = users.get(DEMO_OFFICE_USER)
    if bail is not None and office is not None:
        flag_comment(flag=bail, actor=office, text="On the agenda of the December board pack.")
        touched.append(bail)
    return touched

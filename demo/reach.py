"""Reaching people before it is too late (issue 15): a board contact, flags that will sit at
each level of the escalation ladder, and nudges waiting.

The ladder counts days from a flag's first detection, so its levels show after the scan
history is replayed (`seed_demo --scan-history`, then today's scan):
- level 1: an escalation to Samuel Ortiz (VP Claims) open 40 days, first flagged by the
  scan 7 days ago: his manager, Victor Lindqvist, has been told;
- level 2: an escalation to Liam O'Connor open 47 days, flagged 14 days ago: the sponsor;
- level 3: the paused program's breached commitment and the flags about the CEO sponsor
  start there, and every high flag older than 21 days is with the board contact, Ruth
  Calloway;
- level 0: today's new high flags.
Nudges waiting on today's scan: an action item due in two days (and whatever else the
story has coming due).
"""

import datetime as dt

from accountability.models import ActionItem, Escalation
from programs.models import Person, Program

from . import STRUGGLING_PROGRAM
from .people import Cast


def build_reach(cast: Cast, today: dt.date) -> None:
    organization = cast.organization
    board = Person.objects.create(
        organization=organization,
        name="Ruth Calloway",
        title="Chair of the Board",
        email="ruth.calloway@northwind.example",
    )
    organization.board_contact = board
    organization.save(update_fields=["board_contact"])
    program = Program.objects.get(organization=organization, name=STRUGGLING_PROGRAM)
    initiative = program.initiatives.order_by("id").first()
    for days, raised_to in ((40, cast["claims_vp"]), (47, cast["claims_ops"])):
        Escalation.objects.create(
            program=program,
            initiative=initiative,
            raised_by=cast["service_head"],
            raised_to=raised_to,
            raised_on=today - dt.timedelta(days=days),
        )
    ActionItem.objects.create(
        program=program,
        owner=cast["contact_centres"],
        description="Send the repeat-contact root causes to the forum",
        due_on=today + dt.timedelta(days=2),
    )

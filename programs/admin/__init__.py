"""Admin for the program office: tenancy scoping shared by every admin, and the programs models.

`OrganizationScopedAdmin` is the mixin every cxgov admin (also the accountability admin
modules) puts first in its bases. Staff who are not superusers see only the rows of their
organizations, may pick only their organizations' rows in forms, and get their rights
from their Membership role rather than from Django's permission tables:

- `office` members view, add, change and delete (the program office runs the admin);
- `executive` and `integration` members view only (an admin may widen `write_roles`,
  e.g. executives record commitment assessments);
- superusers keep Django's normal behaviour and see every organization.
"""

from .changes import ChangeAdmin
from .deletion import (
    DeleteByRuleInlineMixin,
    DeleteThroughServiceMixin,
    KeptRecordsDeleteMixin,
    delete_selected_by_rule,
)
from .organizations import ApiKeyAdmin, BusinessUnitAdmin, MembershipAdmin, OrganizationAdmin, PersonAdmin
from .programs import (
    CommitmentAssessmentAdmin,
    InitiativeAdmin,
    ProgramAdmin,
    ProgramStatusChangeAdmin,
    ProgressUpdateAdmin,
    RoadmapStageAdmin,
)
from .scoping import (
    CachedChoicesInlineMixin,
    OrganizationScopedAdmin,
    ReadOnlyAdminMixin,
    ReadOnlyInline,
    ScopedHistoryAdmin,
    ScopedModelForm,
    cache_choices,
)

__all__ = [
    "ApiKeyAdmin",
    "BusinessUnitAdmin",
    "ChangeAdmin",
    "CachedChoicesInlineMixin",
    "CommitmentAssessmentAdmin",
    "DeleteByRuleInlineMixin",
    "DeleteThroughServiceMixin",
    "KeptRecordsDeleteMixin",
    "InitiativeAdmin",
    "MembershipAdmin",
    "OrganizationAdmin",
    "OrganizationScopedAdmin",
    "PersonAdmin",
    "ProgramAdmin",
    "ProgramStatusChangeAdmin",
    "ProgressUpdateAdmin",
    "ReadOnlyAdminMixin",
    "ReadOnlyInline",
    "RoadmapStageAdmin",
    "ScopedHistoryAdmin",
    "ScopedModelForm",
    "cache_choices",
    "delete_selected_by_rule",
]

# The program office's workplace reads as the product, not as a stock framework page (SPEC §5).
from django.contrib import admin as _admin

_admin.site.site_header = "cxgov · program office"
_admin.site.site_title = "cxgov"
_admin.site.index_title = "Program office"
# The landing page lists every model; the sidebar would take 300 px of a 1366 px screen on every page.
_admin.site.enable_nav_sidebar = False

"""Flag comments in the admin: read-only, under their flag (written from the dashboard and
the API, where the author is the person acting). Kept in its own module so the flag admin
stays as it is: the inline is attached to it here."""

from django.contrib import admin

from ..models import FlagComment
from .flags import FlagAdmin


class FlagCommentInline(admin.TabularInline):
    model = FlagComment
    fields = ("created_at", "author_label", "text")
    readonly_fields = fields
    extra = 0
    can_delete = False
    verbose_name_plural = "comments and hand-overs"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("author", "author_user", "author_key__created_by")

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    @admin.display(description="author")
    def author_label(self, obj: FlagComment) -> str:
        return obj.author_label


FlagAdmin.inlines = (*FlagAdmin.inlines, FlagCommentInline)

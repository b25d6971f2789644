from django.urls import path

from . import views
from .board_pack import views as board_pack

app_name = "reports"

urlpatterns = [
    path("calendar/<str:token>.ics", views.person_feed, name="calendar-feed"),
    path("calendar/<str:token>/organization.ics", views.organization_feed, name="calendar-organization-feed"),
    path("dashboard/calendar/", views.my_calendar, name="my-calendar"),
    path("dashboard/calendar/<int:pk>/regenerate/", views.regenerate_calendar, name="calendar-regenerate"),
    path("dashboard/board-pack.pdf", board_pack.portfolio_pack, name="portfolio-board-pack"),
    path("dashboard/programs/<int:pk>/board-pack.pdf", board_pack.program_pack, name="program-board-pack"),
    path("api/v1/programs/<int:pk>/board-pack/", board_pack.ProgramBoardPackView.as_view(), name="api-board-pack"),
]

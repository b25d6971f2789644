from django.urls import path

from . import views

app_name = "reports"

urlpatterns = [
    path("calendar/<str:token>.ics", views.person_feed, name="calendar-feed"),
    path("calendar/<str:token>/organization.ics", views.organization_feed, name="calendar-organization-feed"),
    path("dashboard/calendar/", views.my_calendar, name="my-calendar"),
    path("dashboard/calendar/<int:pk>/regenerate/", views.regenerate_calendar, name="calendar-regenerate"),
]

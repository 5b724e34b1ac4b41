from django.urls import path

from rodtrad.followup import views

app_name = "followup"
urlpatterns = [
    path("k/<str:code>/uppfoljning/", views.home, name="home"),
    path(
        "k/<str:code>/uppfoljning/planar/<int:pk>/skapa/",
        views.periods_generate,
        name="generate",
    ),
    path("k/<str:code>/uppfoljning/period/<int:pk>/", views.period_page, name="period"),
    path("k/<str:code>/uppfoljning/period/<int:pk>/oppna/", views.period_open, name="open"),
    path("k/<str:code>/uppfoljning/period/<int:pk>/stang/", views.period_close, name="close"),
    path("k/<str:code>/uppfoljning/period/<int:pk>/paminn/", views.period_remind, name="remind"),
    path(
        "k/<str:code>/uppfoljning/period/<int:pk>/godkann/",
        views.period_approve,
        name="approve_many",
    ),
    path("k/<str:code>/uppfoljning/rapport/<int:pk>/", views.report_page, name="report"),
    path(
        "k/<str:code>/uppfoljning/rapport/<int:pk>/bedomning/<int:assessment_pk>/",
        views.assessment_edit,
        name="assessment",
    ),
    path(
        "k/<str:code>/uppfoljning/rapport/<int:pk>/avsnitt/<int:section_pk>/",
        views.section_edit,
        name="section",
    ),
    path("k/<str:code>/uppfoljning/rapport/<int:pk>/lamna/", views.report_submit, name="submit"),
    path(
        "k/<str:code>/uppfoljning/rapport/<int:pk>/godkann/", views.report_approve, name="approve"
    ),
    path(
        "k/<str:code>/uppfoljning/rapport/<int:pk>/fullmaktige/",
        views.report_council_approve,
        name="council_approve",
    ),
    path(
        "k/<str:code>/uppfoljning/rapport/<int:pk>/ateroppna/",
        views.report_reopen,
        name="reopen",
    ),
    path(
        "k/<str:code>/uppfoljning/rapport/<int:pk>/version/<int:number>/",
        views.snapshot_page,
        name="snapshot",
    ),
]

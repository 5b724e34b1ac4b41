from django.urls import path

from rodtrad.steering import views

app_name = "steering"
urlpatterns = [
    path("k/<str:code>/", views.municipality_home, name="home"),
    path("k/<str:code>/trad/", views.thread, name="thread"),
    path("k/<str:code>/trad/<int:pk>/bidrag/", views.thread_children, name="children"),
    path("k/<str:code>/mal/ny/", views.item_create, name="item_create"),
    path("k/<str:code>/mal/<int:pk>/", views.item_detail, name="item"),
    path("k/<str:code>/mal/<int:pk>/andra/", views.item_edit, name="item_edit"),
    path("k/<str:code>/mal/<int:pk>/ta-bort/", views.item_delete, name="item_delete"),
    path("k/<str:code>/mal/<int:pk>/lankar/", views.link_add, name="link_add"),
    path(
        "k/<str:code>/mal/<int:pk>/lankar/<int:to_pk>/ta-bort/",
        views.link_remove,
        name="link_remove",
    ),
    path("k/<str:code>/luckor/", views.gaps, name="gaps"),
    path("k/<str:code>/uppdrag/", views.assignments, name="assignments"),
    path("k/<str:code>/styrmodell/", views.model_page, name="model"),
    path("k/<str:code>/styrmodell/export/", views.model_export, name="model_export"),
    path("k/<str:code>/styrmodell/import/", views.model_import, name="model_import"),
    path("k/<str:code>/planer/", views.plans, name="plans"),
    path("k/<str:code>/planer/perioder/", views.period_create, name="period_create"),
    path("k/<str:code>/planer/ar/<int:pk>/rulla/", views.year_rollover, name="year_rollover"),
    path("k/<str:code>/planer/ar/<int:pk>/anta/", views.year_adopt, name="year_adopt"),
]

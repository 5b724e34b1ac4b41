from django.urls import path

from rodtrad.indicators import views

app_name = "indicators"
urlpatterns = [
    path("k/<str:code>/indikatorer/", views.indicator_list, name="list"),
    path("k/<str:code>/indikatorer/ny/", views.indicator_create, name="create"),
    path("k/<str:code>/indikatorer/kolada/", views.kolada_catalogue, name="kolada"),
    path("k/<str:code>/indikatorer/import/", views.values_import, name="import"),
    path("k/<str:code>/indikatorer/bedomning/", views.assessment_settings, name="settings"),
    path("k/<str:code>/indikatorer/<int:pk>/", views.indicator_detail, name="detail"),
    path("k/<str:code>/indikatorer/<int:pk>/andra/", views.indicator_edit, name="edit"),
    path("k/<str:code>/indikatorer/<int:pk>/ta-bort/", views.indicator_delete, name="delete"),
    path("k/<str:code>/indikatorer/<int:pk>/varden/", views.value_entry, name="values"),
    path("k/<str:code>/indikatorer/<int:pk>/malvarden/", views.targets_edit, name="targets"),
    path("k/<str:code>/indikatorer/<int:pk>/kolada/", views.kolada_refresh, name="kolada_refresh"),
    path(
        "k/<str:code>/indikatorer/<int:pk>/kolada/kvittera/",
        views.kolada_acknowledge,
        name="kolada_acknowledge",
    ),
    path("k/<str:code>/mal/<int:pk>/indikatorer/", views.item_indicator_link, name="item_link"),
    path(
        "k/<str:code>/mal/<int:pk>/indikatorer/<int:indicator_pk>/ta-bort/",
        views.item_indicator_unlink,
        name="item_unlink",
    ),
    path("k/<str:code>/mal/<int:pk>/bedomning/", views.item_override, name="item_override"),
]

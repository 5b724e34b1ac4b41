from django.urls import path

from rodtrad.finance import views

app_name = "finance"
urlpatterns = [
    path("k/<str:code>/ekonomi/", views.overview, name="overview"),
    path("k/<str:code>/ekonomi/enhet/<int:pk>/", views.unit_page, name="unit"),
    path("k/<str:code>/ekonomi/import/", views.ledger_import, name="import"),
    path("k/<str:code>/ekonomi/mappning/", views.mapping, name="mapping"),
    path("k/<str:code>/ekonomi/budget/", views.budgets, name="budgets"),
    path("k/<str:code>/ekonomi/installningar/", views.settings_page, name="settings"),
    path("k/<str:code>/ekonomi/oppen/", views.public, name="public"),
]

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("rodtrad.organisations.urls")),
    path("", include("rodtrad.steering.urls")),
    path("", include("rodtrad.indicators.urls")),
    path("", include("rodtrad.finance.urls")),
    path("", include("rodtrad.followup.urls")),
]

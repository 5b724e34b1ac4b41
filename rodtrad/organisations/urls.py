from django.contrib.auth import views as auth_views
from django.urls import path

from rodtrad.organisations import views

urlpatterns = [
    path("", views.home, name="home"),
    path(
        "konto/logga-in/",
        auth_views.LoginView.as_view(
            template_name="organisations/login.html", redirect_authenticated_user=True
        ),
        name="login",
    ),
    path("konto/logga-ut/", auth_views.LogoutView.as_view(), name="logout"),
    path("k/<str:code>/organisation/", views.organisation, name="organisation"),
]

from django.urls import path

from mail import views

urlpatterns = [
    # Development only: answers 404 unless DJANGO_DEBUG.
    path("dev/mail", views.dev_mail, name="dev-mail"),
]

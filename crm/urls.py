from django.urls import path

from crm import views

app_name = "crm"

urlpatterns = [
    path("survey/<str:token>/", views.survey_view, name="survey"),
    path("unsubscribe/<str:token>/", views.unsubscribe_view, name="unsubscribe"),
]

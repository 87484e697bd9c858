from django.urls import include, path
from django.views.decorators.csrf import csrf_exempt

from orders.api import router
from orders.api import urlpatterns as api_urlpatterns
from orders.webhooks import webhook_receive_view

urlpatterns = [
    path(
        "webhooks/<slug:channel_slug>/", csrf_exempt(webhook_receive_view), name="webhook-receive"
    ),
    *api_urlpatterns,
    path("", include(router.urls)),
]

from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from backoffice import two_factor
from backoffice.health import health_view

urlpatterns = [
    path("health/", health_view, name="health"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("api/", include("orders.urls")),
    path("api/", include("inventory.urls")),
    path("api/", include("logistics.urls")),
    path("api/", include("finance.urls")),
    path("", include("crm.urls")),
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
]
# The staff 2FA pages, and the admin's login replaced by the two-step one at the same URL:
# listed first, so /admin/login/ resolves to it (backoffice/two_factor.py).
urlpatterns += [
    path("admin/", include(two_factor)),
    path("admin/", admin.site.urls),
]

if settings.DEBUG:
    from django.conf.urls.static import static

    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

__all__ = ["i18n_patterns", "urlpatterns"]

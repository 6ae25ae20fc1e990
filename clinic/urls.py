"""Root URLs. Public pages carry a language prefix; admin and machine files do not."""

from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.conf.urls.static import static
from django.contrib import admin
from django.contrib.sitemaps.views import sitemap
from django.urls import include, path

from clinic import health, views
from clinic.sitemaps import sitemaps

urlpatterns = [
    path("admin/", admin.site.urls),
    # Staff-only imaging review (doctors): no language prefix, like the admin.
    path("staff/imaging/", include("booking.imaging.urls")),
    path("sitemap.xml", sitemap, {"sitemaps": sitemaps}, name="sitemap"),
    path("robots.txt", views.robots_txt, name="robots_txt"),
    path("favicon.ico", views.favicon, name="favicon"),
    # Load balancers and monitoring (clinic/health.py): no language prefix, never cached.
    path("health/", health.health, name="health"),
]

urlpatterns += i18n_patterns(
    path("", views.home, name="home"),
    path("", include("conditions.urls")),
    path("", include("testimonials.urls")),
    path("", include("booking.urls")),
    # Catch-all for the simple pages; keep it last.
    path("<slug:slug>/", views.page_detail, name="page"),
    prefix_default_language=True,
)

if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)

handler400 = "clinic.views.bad_request"
handler403 = "clinic.views.permission_denied"
handler404 = "clinic.views.page_not_found"
handler500 = "clinic.views.server_error"

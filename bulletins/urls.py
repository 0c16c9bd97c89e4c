from django.urls import path

from . import views

urlpatterns = [
    path("", views.index, name="index"),
    path("articles/<slug:slug>/", views.article, name="article"),
    path("search/", views.search_page, name="search"),
    path("api/search", views.api_search, name="api-search"),
    path("healthz", views.healthz, name="healthz"),
]

handler404 = views.page_not_found
handler500 = views.server_error

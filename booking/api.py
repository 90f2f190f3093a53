"""JSON API v1 (being written)."""

urlpatterns: list = []

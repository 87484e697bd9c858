from django.urls import path

from inventory.api import ProductDetailApi, ProductListApi, StockLevelListApi

urlpatterns = [
    path("products/", ProductListApi.as_view(), name="inventory-product-list"),
    path("products/<int:pk>/", ProductDetailApi.as_view(), name="inventory-product-detail"),
    path("stock-levels/", StockLevelListApi.as_view(), name="inventory-stock-level-list"),
]

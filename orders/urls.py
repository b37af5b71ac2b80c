from django.urls import path

from orders.views import AmbassadorOrderViewSet

urlpatterns = [
    path(
        "ambassadors/<str:ambassador_id>/orders",
        AmbassadorOrderViewSet.as_view({"get": "list"}),
        name="ambassador-orders",
    ),
]

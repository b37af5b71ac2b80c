from django.urls import path

from ambassadors.views import AmbassadorListViewSet, AmbassadorViewSet

urlpatterns = [
    path("ambassadors", AmbassadorListViewSet.as_view({"get": "list"}), name="ambassadors"),
    path(
        "ambassadors/<str:ambassador_id>",
        AmbassadorViewSet.as_view({"get": "retrieve"}),
        name="ambassador",
    ),
]

from django.apps import AppConfig


class AmbassadorsConfig(AppConfig):
    name = "ambassadors"
    verbose_name = "Ambassadors and API tokens"

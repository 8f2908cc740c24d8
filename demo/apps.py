from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Installed for its management command (`manage.py seed_demo`); it has no models."""

    name = "demo"
    verbose_name = "Demo data"

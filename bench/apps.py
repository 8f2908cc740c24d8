from django.apps import AppConfig


class BenchConfig(AppConfig):
    """Installed for its management command (`manage.py bench`); it has no models."""

    name = "bench"
    verbose_name = "Benchmark"

from django.apps import AppConfig


class BulletinsConfig(AppConfig):
    name = "bulletins"
    verbose_name = "民政公报"

    def ready(self):
        # Checks only: the content is loaded by wsgi.py and loadbulletins, never here, since
        # Django advises against touching the database in ready().
        from . import checks  # noqa: F401

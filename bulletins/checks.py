"""System checks for the misconfigurations that would otherwise surface as an empty site."""

from django.conf import settings
from django.core.checks import Error, register


@register()
def content_directory_exists(app_configs, **kwargs):
    directory = settings.BULLETINS_CONTENT_DIR
    if not directory.is_dir():
        return [
            Error(
                f"BULLETINS_CONTENT_DIR {directory} is not a directory.",
                hint="Point BULLETINS_CONTENT_DIR at the folder of Markdown bulletins.",
                id="bulletins.E001",
            )
        ]
    return []

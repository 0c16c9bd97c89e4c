"""The Jinja2 environment of our templates: Django's url() and static() as globals."""

from django.templatetags.static import static
from django.urls import reverse
from jinja2 import Environment


def environment(**options):
    env = Environment(**options)
    env.globals.update({"static": static, "url": reverse})
    return env

"""The Jinja2 environment of our templates: Django's url() and static(), and the site's URL."""

from django.conf import settings
from django.templatetags.static import static
from django.utils.translation import gettext, ngettext
from jinja2 import Environment
from markupsafe import Markup, escape

from .citation import TEMPLATE, reference
from .content import entry
from .routes import url
from .traditional import traditional_path
from .typeset import breaks, lead_in_breaks


def environment(**options):
    env = Environment(extensions=["jinja2.ext.i18n"], **options)
    env.install_gettext_callables(gettext, ngettext, newstyle=True)  # _() in templates: the site's own words
    env.globals.update({"static": static, "url": url, "absolute": absolute, "site_url": site_url})
    env.globals["day"] = day
    env.globals["traditional_path"] = traditional_path
    env.globals.update(reference=reference, citation_template=TEMPLATE)
    env.filters["entry"] = entry
    env.filters["breaks"] = breaks
    env.filters["section_html"] = section_html
    return env


# The labels content.py gives a section's and a paragraph's links, as the page's language says them.
LINK_LABELS = ('aria-label="本节的链接：', 'aria-label="本段的链接"')


def section_html(html):
    """A section's stored HTML as the page shows it: its lead-in's words marked for line breaks
    (typeset.py), its links' labels in the page's language (the traditional edition's catalogue)."""
    html = str(lead_in_breaks(html))
    for label, said in zip(LINK_LABELS, (gettext("本节的链接："), gettext("本段的链接")), strict=True):
        html = html.replace(label, f'aria-label="{escape(said)}' + ('"' if label.endswith('"') else ""))
    return Markup(html)


def day(date):
    """<time> of a date as Chinese readers write it: 2023年2月24日."""
    return Markup(f'<time datetime="{date.isoformat()}">{date.year}年{date.month}月{date.day}日</time>')


def site_url():
    return settings.BULLETINS_SITE_URL


def absolute(path):
    """A page's URL for canonical links: under BULLETINS_SITE_URL when it is set, else the path.

    Not from the request's Host: article pages are rendered once, before any request.
    """
    return site_url() + path

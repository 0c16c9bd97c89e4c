"""A bulletin's reference as GB/T 7714-2015 sets one for an electronic bulletin ([EB/OL]).

    责任者. 题名: 其他题名信息[EB/OL]. (发布日期)[引用日期]. 获取和访问路径.

The responsible party is the source the text names, else its byline; the date is the one the
text states, else none is given (never the day the bulletin joined this archive); the section,
where one is cited, is the other title information. The day of citing is the reader's: the
page fills it in when a reader copies the reference, and the API leaves its placeholder.
"""

CITED_ON = "引用日期"
# What the page's script fills in when a reader copies a section's reference (site.js).
TEMPLATE = {"address": "{address}", "section_title": "{section}", "cited_on": "{cited_on}"}


def reference(article, address, section_title="", cited_on=CITED_ON):
    """The reference of `article` (or of its section titled `section_title`) at `address`."""
    who = article.source or article.byline
    title = f"{article.title}: {section_title.removesuffix('。')}" if section_title else article.title
    published = f"({article.date.isoformat()})" if article.date else ""
    return f"{who + '. ' if who else ''}{title}[EB/OL]. {published}[{cited_on}]. {address}."

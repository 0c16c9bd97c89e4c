"""Keep each section's region in the index itself, so that counting and ranking need no join.

The index is derived data: the table is rebuilt empty, and content.PARSER_VERSION goes up in
the same change so that the next load re-indexes every file.
"""

from django.db import migrations

CREATE = """
DROP TABLE search_index;
CREATE VIRTUAL TABLE search_index USING fts5(
    title_words, body_words, title_grams, body_grams, region UNINDEXED,
    tokenize = 'unicode61 remove_diacritics 0'
);
"""

REVERSE = """
DROP TABLE search_index;
CREATE VIRTUAL TABLE search_index USING fts5(
    title_words, body_words, title_grams, body_grams,
    tokenize = 'unicode61 remove_diacritics 0'
);
"""


class Migration(migrations.Migration):
    dependencies = [("bulletins", "0002_search_index")]
    operations = [migrations.RunSQL(CREATE, REVERSE)]

"""The search index: an FTS5 table of segmented text, one row per section (rowid = section id).

A trigger takes a section's row out when the section is deleted, whatever deletes it.
"""

from django.db import migrations

CREATE = """
CREATE VIRTUAL TABLE search_index USING fts5(
    title_words, body_words, title_grams, body_grams,
    tokenize = 'unicode61 remove_diacritics 0'
);
CREATE TRIGGER search_index_section_deleted AFTER DELETE ON bulletins_section BEGIN
    DELETE FROM search_index WHERE rowid = old.id;
END;
"""

DROP = """
DROP TRIGGER IF EXISTS search_index_section_deleted;
DROP TABLE IF EXISTS search_index;
"""


class Migration(migrations.Migration):
    dependencies = [("bulletins", "0001_initial")]
    operations = [migrations.RunSQL(CREATE, DROP)]

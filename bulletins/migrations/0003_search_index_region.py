"""Each indexed section's region in a narrow table of its own, for counts and filters by region.

Reading a column of the FTS5 table loads the whole stored row, segmented text and all; on a
100,000-section archive counting a broad query's matches by region that way took five times
as long as through this table. The index is derived data: content.PARSER_VERSION goes up in
the same change, so that the next load indexes every file anew.
"""

from django.db import migrations

CREATE = """
CREATE TABLE search_region (section_id INTEGER PRIMARY KEY, region TEXT NOT NULL);
DROP TRIGGER search_index_section_deleted;
CREATE TRIGGER search_index_section_deleted AFTER DELETE ON bulletins_section BEGIN
    DELETE FROM search_index WHERE rowid = old.id;
    DELETE FROM search_region WHERE section_id = old.id;
END;
DELETE FROM search_index;
"""

REVERSE = """
DROP TRIGGER search_index_section_deleted;
CREATE TRIGGER search_index_section_deleted AFTER DELETE ON bulletins_section BEGIN
    DELETE FROM search_index WHERE rowid = old.id;
END;
DROP TABLE search_region;
"""


class Migration(migrations.Migration):
    dependencies = [("bulletins", "0002_search_index")]
    operations = [migrations.RunSQL(CREATE, REVERSE)]

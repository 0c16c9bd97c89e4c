"""Search moves from SQLite FTS5 to a tantivy index beside the database (bulletins.search.index).

The FTS5 table, its region table and trigger go; the published state names its index version.
The next load finds no index version named and builds the index from the published articles.
"""

from django.db import migrations, models

DROP = """
DROP TRIGGER IF EXISTS search_index_section_deleted;
DROP TABLE IF EXISTS search_region;
DROP TABLE IF EXISTS search_index;
"""


class Migration(migrations.Migration):
    dependencies = [("bulletins", "0005_stored_pages")]
    operations = [
        migrations.RunSQL(DROP, migrations.RunSQL.noop),
        migrations.AddField(
            model_name="contentstate",
            name="index_version",
            field=models.CharField(blank=True, help_text="The search index's folder for this content.", max_length=100),
        ),
    ]

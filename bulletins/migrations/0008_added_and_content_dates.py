"""The day a bulletin joined the archive, from its file, and the content's last change as the
content dates it: what Last-Modified, the feeds and the sitemap use, never the time of a load.
content.PARSER_VERSION goes up in the same change, so the next load reads every file anew."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("bulletins", "0007_load_outcome")]
    operations = [
        migrations.AddField(
            model_name="article",
            name="added",
            field=models.DateField(blank=True, help_text="The day the bulletin joined this archive (its file says).", null=True),
        ),
        migrations.AlterField(
            model_name="article",
            name="date",
            field=models.DateField(blank=True, help_text="The day the text states, if it states one.", null=True),
        ),
        migrations.AddField(
            model_name="contentstate",
            name="last_modified",
            field=models.BigIntegerField(default=0, help_text="Article.objects.last_modified() of this content: for HTTP."),
        ),
    ]

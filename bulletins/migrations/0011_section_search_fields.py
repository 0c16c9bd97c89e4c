from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("bulletins", "0010_page_traditional"),
    ]

    operations = [
        migrations.AddField(
            model_name="section",
            name="first",
            field=models.PositiveIntegerField(default=1, help_text="The number of its first block in the whole bulletin, from 1."),
        ),
        migrations.AddField(
            model_name="section",
            name="singles",
            field=models.TextField(
                blank=True,
                default="",
                help_text="Where the text's segmentation has one-character words: a line of offsets for the title, then one a block.",
            ),
            preserve_default=False,
        ),
        migrations.AddField(
            model_name="section",
            name="streams",
            field=models.TextField(
                blank=True,
                default="",
                help_text="What search matches of the title, then of each block (searchable()), a line each.",
            ),
            preserve_default=False,
        ),
    ]

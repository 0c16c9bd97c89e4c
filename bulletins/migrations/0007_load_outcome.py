from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("bulletins", "0006_tantivy_index")]
    operations = [
        migrations.AddField(
            model_name="contentstate",
            name="last_load",
            field=models.CharField(blank=True, help_text="When the last load ended, and how: for /healthz.", max_length=500),
        ),
        migrations.AddField(
            model_name="contentstate",
            name="refused",
            field=models.JSONField(blank=True, default=list, help_text="The files the last load refused, as file:line: message."),
        ),
    ]

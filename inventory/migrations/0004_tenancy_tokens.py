"""One unused boot token per MAC (derived from a nonce and SECRET_KEY); deletes are audited."""

from django.db import migrations, models


def keep_newest_unused_token_per_mac(apps, schema_editor):
    """Tokens from before this migration: an unused one per MAC may stay (it still works until
    it expires); older duplicates go, so that the constraint below can hold."""
    BootToken = apps.get_model("inventory", "BootToken")
    seen = set()
    for row in BootToken.objects.filter(used_at__isnull=True).order_by("mac", "-created_at"):
        if row.mac in seen:
            row.delete()
        seen.add(row.mac)


class Migration(migrations.Migration):
    dependencies = [
        ("inventory", "0003_audit_entry"),
    ]

    operations = [
        migrations.AddField(
            model_name="boottoken",
            name="nonce",
            field=models.CharField(blank=True, max_length=64),
        ),
        migrations.AlterField(
            model_name="boottoken",
            name="expires_at",
            field=models.DateTimeField(db_index=True),
        ),
        migrations.AlterField(
            model_name="auditentry",
            name="action",
            field=models.CharField(
                choices=[
                    ("created", "Created"),
                    ("updated", "Updated"),
                    ("deleted", "Deleted"),
                    ("resolved", "Resolved"),
                ],
                max_length=20,
            ),
        ),
        migrations.RunPython(keep_newest_unused_token_per_mac, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="boottoken",
            constraint=models.UniqueConstraint(
                condition=models.Q(("used_at__isnull", True)),
                fields=("mac",),
                name="inventory_boottoken_one_unused_per_mac",
            ),
        ),
    ]

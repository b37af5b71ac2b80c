# Safe on a large table (platform_api/online_migrations.py): the two columns with a constant
# default are catalog changes on PostgreSQL 11+ (no rewrite); the referrer's constraint is
# validated and the indexes built without blocking writes.

import django.db.models.deletion
from django.db import migrations, models

from platform_api.online_migrations import AddIndexOnline, AddNullableForeignKeyOnline


class Migration(migrations.Migration):

    # PostgreSQL refuses CREATE INDEX CONCURRENTLY inside a transaction.
    atomic = False

    dependencies = [
        ('ambassadors', '0001_initial'),
    ]

    operations = [
        migrations.AddField(
            model_name='ambassador',
            name='gender',
            field=models.CharField(blank=True, db_default='', default='', max_length=32),
        ),
        migrations.AddField(
            model_name='ambassador',
            name='gamification_score',
            field=models.IntegerField(db_default=0, default=0),
        ),
        AddNullableForeignKeyOnline(
            model_name='ambassador',
            name='referrer',
            field=models.ForeignKey(blank=True, db_column='id_referrer', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='referrals', to='ambassadors.ambassador'),
        ),
        AddIndexOnline(
            model_name='ambassador',
            index=models.Index(fields=['brand', 'id_ambassador'], name='ambassador_brand_id_idx'),
        ),
        AddIndexOnline(
            model_name='ambassador',
            index=models.Index(fields=['brand', 'last_action_date', 'id_ambassador'], name='ambassador_brand_action_idx'),
        ),
    ]

# Outflow rules (issue 16 item 2): payments and withdrawals "in review", and the indexes the velocity rules read.

import django_fsm
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('ledger', '0011_micro_deposit_entry_type'),
    ]

    operations = [
        migrations.AlterField(
            model_name='payment',
            name='status',
            field=django_fsm.FSMField(choices=[('settled', 'Settled'), ('held', 'Held in escrow'), ('partially_released', 'Partially released'), ('released', 'Released'), ('refunded', 'Refunded'), ('in_review', 'In review (risk)'), ('refused', 'Refused (risk)')], max_length=24, verbose_name='status'),
        ),
        migrations.AlterField(
            model_name='withdrawal',
            name='status',
            field=django_fsm.FSMField(choices=[('requested', 'Requested'), ('in_review', 'In review (risk)'), ('pending_approval', 'Pending approval'), ('approved', 'Approved'), ('processing', 'Processing'), ('paid', 'Paid'), ('failed', 'Failed'), ('rejected', 'Rejected')], default='requested', max_length=20, verbose_name='status'),
        ),
        migrations.AddIndex(
            model_name='payment',
            index=models.Index(fields=['payer', 'created_at'], name='payment_payer_recent_idx'),
        ),
        migrations.AddIndex(
            model_name='withdrawal',
            index=models.Index(fields=['member', 'created_at'], name='withdrawal_member_recent_idx'),
        ),
    ]

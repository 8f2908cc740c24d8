# Outflow rules (issue 16 item 2): the rules risk keeps in the admin, their hits and the risk queue.

import core.money
import django.db.models.deletion
import django.utils.timezone
import django_fsm
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('ledger', '0012_outflow_review'),
        ('merchants', '0005_one_time_codes'),
        ('risk', '0002_risk_reserve'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='OutflowRule',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=100, unique=True, verbose_name='name')),
                ('min_risk_level', models.CharField(blank=True, choices=[('low', 'Low'), ('medium', 'Medium'), ('high', 'High')], help_text='Only merchants whose computed risk level is at least this (empty: whatever their level).', max_length=16, verbose_name='minimum risk level')),
                ('movement', models.CharField(blank=True, choices=[('payment', 'Payment'), ('withdrawal', 'Withdrawal'), ('release', 'Release from escrow')], help_text='Empty: every movement the condition can judge.', max_length=16, verbose_name='movement')),
                ('kind', models.CharField(choices=[('amount_limit', 'Amount above a limit'), ('velocity_count', 'More movements per member than the count in the window'), ('velocity_sum', "Member's total in the window above the amount"), ('new_member', 'Member younger than N days, amount above the limit'), ('new_card', 'First withdrawal to a card (bound less than N days ago, if set)'), ('quick_release', 'Release sooner than N hours after the payment was held'), ('new_payers', 'Payee paid by at least the count of new members in the window')], max_length=24, verbose_name='condition')),
                ('amount', core.money.MoneyField(blank=True, decimal_places=2, help_text='Limit (amount limit, new member) or total in the window (velocity sum).', max_digits=18, null=True, verbose_name='amount')),
                ('count', models.PositiveIntegerField(blank=True, help_text='Most movements in the window (velocity count); fewest new payers that trigger it (new payers).', null=True, verbose_name='count')),
                ('window', models.CharField(blank=True, choices=[('hour', 'Last hour'), ('day', 'Last 24 hours')], max_length=8, verbose_name='window')),
                ('days', models.PositiveIntegerField(blank=True, help_text='Age under which a member is new (new member, new payers) or a card is new (new card; empty: any card).', null=True, verbose_name='days')),
                ('hours', models.PositiveIntegerField(blank=True, help_text='Least time between payment and release (quick release).', null=True, verbose_name='hours')),
                ('outcome', models.CharField(choices=[('allow', 'Allow (record only)'), ('review', 'Review (hold for a risk officer)'), ('refuse', 'Refuse')], default='review', max_length=8, verbose_name='outcome')),
                ('mode', models.CharField(choices=[('enforce', 'Enforce'), ('observe', 'Observe (record what it would do)')], default='observe', help_text='A new rule observes first: it records what it would have done.', max_length=8, verbose_name='mode')),
                ('active', models.BooleanField(default=True, verbose_name='active')),
                ('description', models.TextField(blank=True, verbose_name='description')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='created at')),
                ('updated_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='updated at')),
                ('created_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='created by')),
                ('merchant', models.ForeignKey(blank=True, help_text='Empty: every merchant.', null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='merchants.merchant', verbose_name='merchant')),
                ('updated_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='last changed by')),
            ],
            options={
                'verbose_name': 'outflow rule',
                'verbose_name_plural': 'outflow rules',
                'ordering': ['id'],
            },
        ),
        migrations.CreateModel(
            name='RiskReview',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('movement', models.CharField(choices=[('payment', 'Payment'), ('withdrawal', 'Withdrawal'), ('release', 'Release from escrow')], max_length=16, verbose_name='movement')),
                ('amount', core.money.MoneyField(decimal_places=2, max_digits=18, verbose_name='amount')),
                ('order_no', models.CharField(blank=True, max_length=64, verbose_name='order number')),
                ('request', models.JSONField(blank=True, default=dict, verbose_name='request')),
                ('detail', models.CharField(blank=True, max_length=255, verbose_name='why')),
                ('status', django_fsm.FSMField(choices=[('open', 'Waiting for a risk officer'), ('approved', 'Approved'), ('refused', 'Refused')], default='open', max_length=12, verbose_name='status')),
                ('reason', models.TextField(blank=True, verbose_name='decision reason')),
                ('decided_at', models.DateTimeField(blank=True, null=True, verbose_name='decided at')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='raised at')),
                ('decided_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='decided by')),
                ('member', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='merchants.member', verbose_name='member')),
                ('merchant', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='merchants.merchant', verbose_name='merchant')),
                ('payment', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='ledger.payment', verbose_name='payment')),
                ('rule', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='reviews', to='risk.outflowrule', verbose_name='rule')),
                ('withdrawal', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='ledger.withdrawal', verbose_name='withdrawal')),
            ],
            options={
                'verbose_name': 'risk review',
                'verbose_name_plural': 'risk queue',
                'ordering': ['-created_at', '-id'],
                'permissions': [('decide_riskreview', 'Can approve or refuse a movement in the risk queue')],
            },
        ),
        migrations.CreateModel(
            name='RuleHit',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('movement', models.CharField(choices=[('payment', 'Payment'), ('withdrawal', 'Withdrawal'), ('release', 'Release from escrow')], max_length=16, verbose_name='movement')),
                ('amount', core.money.MoneyField(decimal_places=2, max_digits=18, verbose_name='amount')),
                ('order_no', models.CharField(blank=True, max_length=64, verbose_name='order number')),
                ('outcome', models.CharField(choices=[('allow', 'Allow (record only)'), ('review', 'Review (hold for a risk officer)'), ('refuse', 'Refuse')], max_length=8, verbose_name='outcome')),
                ('mode', models.CharField(choices=[('enforce', 'Enforce'), ('observe', 'Observe (record what it would do)')], max_length=8, verbose_name='mode')),
                ('applied', models.BooleanField(default=False, help_text='The strictest enforced hit decides; observed hits never do.', verbose_name='decided the movement')),
                ('detail', models.CharField(max_length=255, verbose_name='why')),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now, verbose_name='at')),
                ('member', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='merchants.member', verbose_name='member')),
                ('merchant', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='+', to='merchants.merchant', verbose_name='merchant')),
                ('payment', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='ledger.payment', verbose_name='payment')),
                ('review', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='hits', to='risk.riskreview', verbose_name='review')),
                ('rule', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='hits', to='risk.outflowrule', verbose_name='rule')),
                ('withdrawal', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to='ledger.withdrawal', verbose_name='withdrawal')),
            ],
            options={
                'verbose_name': 'rule hit',
                'verbose_name_plural': 'rule hits',
                'ordering': ['-created_at', '-id'],
            },
        ),
        migrations.AddConstraint(
            model_name='outflowrule',
            constraint=models.CheckConstraint(condition=models.Q(('amount__isnull', True), ('amount__gt', 0), _connector='OR'), name='rule_amount_positive'),
        ),
        migrations.AddIndex(
            model_name='riskreview',
            index=models.Index(fields=['status', '-created_at'], name='review_queue_idx'),
        ),
        migrations.AddIndex(
            model_name='riskreview',
            index=models.Index(fields=['merchant', '-created_at'], name='review_merchant_recent_idx'),
        ),
        migrations.AddConstraint(
            model_name='riskreview',
            constraint=models.UniqueConstraint(condition=models.Q(('status', 'open')), fields=('movement', 'payment'), name='review_one_open_per_payment_movement'),
        ),
        migrations.AddConstraint(
            model_name='riskreview',
            constraint=models.UniqueConstraint(condition=models.Q(('status', 'open')), fields=('withdrawal',), name='review_one_open_per_withdrawal'),
        ),
        migrations.AddIndex(
            model_name='rulehit',
            index=models.Index(fields=['merchant', '-created_at'], name='rulehit_merchant_recent_idx'),
        ),
        migrations.AddIndex(
            model_name='rulehit',
            index=models.Index(fields=['rule', '-created_at'], name='rulehit_rule_recent_idx'),
        ),
    ]

from datetime import timedelta

import pytest
from django.utils import timezone

from core.crypto import decrypt
from core.errors import InvalidState, PermissionRefused
from merchants.models import ApiSecret
from merchants.services.credentials import credentials_rotate, valid_secrets
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_the_secret_is_stored_encrypted():
    merchant, secret = f.active_merchant(with_secret=True)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT secret FROM merchants_apisecret WHERE merchant_id = %s", [merchant.pk])
        stored = cursor.fetchone()[0]
    assert secret not in stored
    assert decrypt(stored) == secret


def test_rotation_keeps_the_old_secret_valid_for_the_overlap(settings):
    # given an active merchant and its first secret
    settings.JIANGUAN = {**settings.JIANGUAN, "SECRET_ROTATION_OVERLAP_HOURS": 2}
    merchant, old = f.active_merchant(with_secret=True)
    # when operations rotate it
    new = credentials_rotate(merchant=merchant, actor=f.ops())
    # then both work now, newest first, and only the new one after the overlap
    assert valid_secrets(merchant) == [new, old]
    later = timezone.now() + timedelta(hours=2, minutes=1)
    assert valid_secrets(merchant, now=later) == [new]
    assert ApiSecret.objects.filter(merchant=merchant, expires_at__isnull=True).count() == 1


def test_rotation_needs_the_permission_and_an_active_merchant():
    merchant = f.active_merchant()
    with pytest.raises(PermissionRefused):
        credentials_rotate(merchant=merchant, actor=f.auditor())
    draft = f.draft_merchant()
    with pytest.raises(InvalidState):
        credentials_rotate(merchant=draft, actor=f.ops())

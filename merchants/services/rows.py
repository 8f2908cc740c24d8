"""Small helpers the merchants services share: validate a row, lock a row."""
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from core.errors import ValidationFailed


def validated(instance, exclude=()):
    try:
        instance.full_clean(exclude=list(exclude))
    except ValidationError as err:
        raise ValidationFailed(_("Please correct the errors."), details=err.message_dict) from None


def locked(model, pk):
    return model.objects.select_for_update(no_key=True).get(pk=pk)

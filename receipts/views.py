"""The public verification page (no sign-in): a receipt's number and verification code in,
genuine or not out. Only the pair of a number and its code shows anything — the amount, kind,
business date and the parties masked; a wrong code and an unknown number get the same answer,
so the page tells nothing about which numbers exist. Look-ups are limited per client address
(JIANGUAN["RECEIPT_VERIFY_PER_MINUTE"], cache-counted like the API throttle)."""
from decimal import Decimal

from django import forms
from django.conf import settings
from django.core.cache import cache
from django.shortcuts import render
from django.utils.translation import gettext_lazy as _
from django.views.decorators.http import require_GET

from .codes import CODE_LENGTH, code_matches
from .models import Receipt


class VerifyForm(forms.Form):
    no = forms.CharField(label=_("Receipt number"), max_length=32, strip=True)
    code = forms.CharField(label=_("Verification code"), max_length=CODE_LENGTH + 8, strip=True)


def _limit() -> int:
    return int(settings.JIANGUAN.get("RECEIPT_VERIFY_PER_MINUTE", 10))


def _throttled(request) -> bool:
    """A fixed one-minute window per client address; True once the window's allowance is spent."""
    key = f"receipts:verify:{request.META.get('REMOTE_ADDR', '')}"
    cache.add(key, 0, timeout=60)
    try:
        count = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=60)
        count = 1
    return count > _limit()


@require_GET
def verify(request):
    form = VerifyForm(request.GET or None)
    context = {"form": form, "result": None}
    status = 200
    if form.is_valid():
        if _throttled(request):
            context["result"] = "throttled"
            status = 429
        else:
            number = form.cleaned_data["no"].upper()
            receipt = Receipt.objects.filter(number=number).first()
            # The code is checked even when the number is unknown: the same work either way.
            genuine = code_matches(number, receipt.amount if receipt else Decimal("0.00"), form.cleaned_data["code"])
            if receipt is not None and genuine:
                context.update(result="genuine", receipt=receipt)
            else:
                context["result"] = "not_genuine"
    response = render(request, "receipts/verify.html", context, status=status)
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex"
    return response

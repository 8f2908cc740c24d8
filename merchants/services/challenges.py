"""One-time codes for members' outflows: issue a challenge (the code goes to the member's phone),
check a code. The apps that book the movement (the ledger) call `challenge_check` inside the
booking's transaction, so a challenge is confirmed if and only if its movement is booked.

Codes are 6 digits, valid JIANGUAN["OTP_TTL_SECONDS"] (5 minutes), single-use, and a challenge
locks after JIANGUAN["OTP_MAX_ATTEMPTS"] wrong codes. Only a keyed hash of the code is stored;
neither the code nor the phone number is logged or audited."""
import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils import translation
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from core.audit import audit_record
from core.errors import ApplicationError, InvalidState, NotFound

from .. import sms
from ..models import Challenge, Member

CODE_DIGITS = 6


class WrongCode(ApplicationError):
    code, status = "invalid_code", 400
    default_message = _("The code is wrong.")


class ChallengeClosed(ApplicationError):
    code, status = "challenge_closed", 409
    default_message = _("This challenge can no longer be confirmed.")


def new_code() -> str:
    return f"{secrets.randbelow(10 ** CODE_DIGITS):0{CODE_DIGITS}d}"


def code_hash(token: str, code: str) -> str:
    key = hashlib.sha256(("jianguan-otp:" + settings.SECRET_KEY).encode()).digest()
    return hmac.new(key, f"{token}:{code}".encode(), hashlib.sha256).hexdigest()


def challenge_issue(*, member: Member, purpose: str, payload: dict, actor) -> Challenge:
    """Create the challenge and text its code to the member. A member without a phone number is
    refused; a sender that fails raises SmsUnavailable and nothing is kept."""
    if not member.phone:
        raise InvalidState(_("The member has no phone number to receive a one-time code."),
                           details={"reason": "no_phone"})
    code = new_code()
    with transaction.atomic():
        challenge = Challenge(
            token="ch_" + secrets.token_urlsafe(18), merchant_id=member.merchant_id, member=member, purpose=purpose,
            payload=payload, sent_to=member.phone_masked,
            expires_at=timezone.now() + timedelta(seconds=settings.JIANGUAN["OTP_TTL_SECONDS"]))
        challenge.code_hash = code_hash(challenge.token, code)
        challenge.save()
        audit_record(actor=actor, obj=challenge, action="challenge_issue", merchant_id=member.merchant_id,
                     to_state=challenge.status, data={"purpose": purpose, "sent_to": challenge.sent_to})
        minutes = max(1, settings.JIANGUAN["OTP_TTL_SECONDS"] // 60)
        with translation.override("zh-hans"):  # members read their texts in Chinese
            text = gettext("Your confirmation code is %(code)s, valid for %(minutes)s minutes. "
                           "Never tell it to anyone.") % {"code": code, "minutes": minutes}
        sms.send(member.phone, text)
    return challenge


def challenge_for(merchant, token: str) -> Challenge:
    challenge = Challenge.objects.filter(merchant=merchant, token=token).select_related("member").first()
    if challenge is None:
        raise NotFound()
    return challenge


def challenge_confirm(*, challenge: Challenge, code: str, actor, book) -> Challenge:
    """Check the code and, if it is right, book the movement with `book(challenge)` (returns the
    booked row's id) in the same transaction: a challenge is confirmed if and only if its movement
    is booked, and a refused booking (insufficient funds, …) leaves the challenge pending.
    A wrong code is counted and committed before it is refused; the last allowed one locks it."""
    wrong = False
    with transaction.atomic():
        challenge = Challenge.objects.select_for_update(no_key=True).get(pk=challenge.pk)
        _refuse_if_closed(challenge)
        if hmac.compare_digest(challenge.code_hash, code_hash(challenge.token, str(code or "").strip())):
            challenge.result_id = book(challenge)
            challenge.status, challenge.confirmed_at = Challenge.Status.CONFIRMED, timezone.now()
            challenge.save(update_fields=["status", "confirmed_at", "result_id"])
            audit_record(actor=actor, obj=challenge, action="challenge_confirm", merchant_id=challenge.merchant_id,
                         from_state=Challenge.Status.PENDING, to_state=challenge.status,
                         data={"result_id": challenge.result_id})
        else:
            wrong = True
            challenge.attempts += 1
            if challenge.attempts >= settings.JIANGUAN["OTP_MAX_ATTEMPTS"]:
                challenge.status = Challenge.Status.LOCKED
            challenge.save(update_fields=["attempts", "status"])
            audit_record(actor=actor, obj=challenge, action="challenge_wrong_code", merchant_id=challenge.merchant_id,
                         from_state=Challenge.Status.PENDING, to_state=challenge.status,
                         data={"attempts": challenge.attempts})
    if wrong:
        left = max(0, settings.JIANGUAN["OTP_MAX_ATTEMPTS"] - challenge.attempts)
        raise WrongCode(details={"attempts_left": left})
    return challenge


def _refuse_if_closed(challenge: Challenge) -> None:
    if challenge.status == Challenge.Status.CONFIRMED:
        raise ChallengeClosed(details={"reason": "used"})
    if challenge.status == Challenge.Status.LOCKED:
        raise ChallengeClosed(details={"reason": "locked"})
    if challenge.expires_at <= timezone.now():
        raise ChallengeClosed(details={"reason": "expired"})

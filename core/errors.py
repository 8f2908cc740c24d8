"""One application error family. Services raise these; the API, the admin and the commands
each render them in their own form (JSON envelope, admin message, exit code)."""
from django.utils.translation import gettext_lazy as _


class ApplicationError(Exception):
    code = "invalid_request"
    status = 400
    default_message = _("The request is invalid.")

    def __init__(self, message=None, *, code=None, details=None, field=None):
        self.message = message or self.default_message
        if code:
            self.code = code
        self.details = details or ({field: [str(self.message)]} if field else {})
        super().__init__(str(self.message))


class ValidationFailed(ApplicationError):
    code, status = "invalid_request", 400


class InvalidAmount(ApplicationError):
    code, status = "invalid_amount", 400
    default_message = _("The amount is invalid.")


class NotFound(ApplicationError):
    code, status = "not_found", 404
    default_message = _("Not found.")


class PermissionRefused(ApplicationError):
    code, status = "permission_denied", 403
    default_message = _("You are not allowed to do this.")


class MerchantFrozen(ApplicationError):
    code, status = "merchant_frozen", 403
    default_message = _("The merchant is frozen: nothing may leave its accounts.")


class MerchantInactive(ApplicationError):
    code, status = "merchant_inactive", 403
    default_message = _("The merchant is not active.")


class MemberFrozen(ApplicationError):
    code, status = "member_frozen", 403
    default_message = _("The member is frozen: nothing may leave their accounts.")


class AccountFrozen(ApplicationError):
    code, status = "account_frozen", 403
    default_message = _("The account is frozen: nothing may leave it.")


class InvalidState(ApplicationError):
    code, status = "invalid_state", 409
    default_message = _("This is not allowed in the current state.")


class Duplicate(ApplicationError):
    code, status = "duplicate", 409
    default_message = _("It already exists.")


class DuplicateOrder(ApplicationError):
    code, status = "duplicate_order", 409
    default_message = _("This order number was already used.")


class IdempotencyConflict(ApplicationError):
    code, status = "idempotency_conflict", 409
    default_message = _("The idempotency key was used with a different request.")


class InsufficientFunds(ApplicationError):
    code, status = "insufficient_funds", 422
    default_message = _("Insufficient funds.")


class CreditLimitExceeded(ApplicationError):
    code, status = "credit_limit_exceeded", 422
    default_message = _("The credit limit would be exceeded.")


class CreditLineInactive(ApplicationError):
    code, status = "credit_line_inactive", 422
    default_message = _("The credit line is not active.")


class CardNotVerified(ApplicationError):
    code, status = "card_not_verified", 422
    default_message = _("The bank card is not verified.")


class OrderMismatch(ApplicationError):
    code, status = "order_mismatch", 422
    default_message = _("The amounts do not match the order.")


class ReserveShortfall(ApplicationError):
    code, status = "reserve_shortfall", 422
    default_message = _("The platform's risk reserve is short of its requirement: withdrawals above the limit wait "
                        "until the platform funds it.")

"""Tenant-scoped lookups for API views: a row of another merchant is simply not found (404),
never forbidden, so a platform cannot even learn that an id exists elsewhere."""
from django.utils.translation import gettext_lazy as _

from core.errors import NotFound

from ..models import BankCard, Member


def member_or_404(merchant, user_id: str, *, field: str | None = None) -> Member:
    member = Member.objects.filter(merchant=merchant, user_id=user_id).first()
    if member is None:
        raise NotFound(_("No member with this user id."), field=field)
    return member


def members_or_404(merchant, wanted: list[tuple[str, str | None]]) -> dict[str, Member]:
    """Several members in one query: `wanted` is (user_id, field) in the order a request names them;
    answers {user_id: member}, or the NotFound member_or_404 gives for the first one missing."""
    found = {m.user_id: m for m in Member.objects.filter(merchant=merchant, user_id__in={u for u, _f in wanted})}
    for user_id, field in wanted:
        if user_id not in found:
            raise NotFound(_("No member with this user id."), field=field)
    return found


def bank_card_or_404(merchant, card_id, *, member: Member | None = None, field: str | None = None) -> BankCard:
    qs = BankCard.objects.filter(merchant=merchant, pk=card_id)
    if member is not None:
        qs = qs.filter(member=member)
    card = qs.select_related("member").first()
    if card is None:
        raise NotFound(_("No such bank card."), field=field)
    return card

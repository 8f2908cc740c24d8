"""How the API finds a platform's credentials (registered with core.api.authentication in
MerchantsConfig.ready, so core never imports merchants)."""
from ..models import Merchant
from ..services.credentials import valid_secrets


def platform_credentials(app_id: str):
    """(merchant, [unexpired secrets, newest first]) or None for an unknown app id."""
    merchant = Merchant.objects.filter(app_id=app_id).first()
    if merchant is None:
        return None
    return merchant, valid_secrets(merchant)

"""Extension points of the ledger's API for apps built on the ledger.

`credit_summary_providers`: fn(member) -> {"limit": Decimal, "used": Decimal,
"available": Decimal} or None. The balance endpoint answers `"credit": null` until a provider
answers for the member. The credit app registers one in its AppConfig.ready:

    from ledger.api import extensions
    extensions.credit_summary_providers.append(credit.selectors.credit_summary)
"""
credit_summary_providers: list = []


def credit_summary(member):
    for provider in credit_summary_providers:
        summary = provider(member)
        if summary is not None:
            return summary
    return None

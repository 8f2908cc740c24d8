"""The platform REST API's shared machinery (DRF): signed-request authentication, idempotency
keys, the error envelope, cursor pagination, money fields, throttling per app id, base views
and the OpenAPI description. Apps add endpoints in their own `api/` package on top of
`core.api.views.PlatformAPIView`; see that module's docstring for the recipe.

`core.api.signing` uses the standard library only and is shared with the webhooks and the
`jianguan_client` package; this package's __init__ imports nothing, so the client can use it
without Django."""

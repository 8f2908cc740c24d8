"""A `requests` transport adapter that sends through Django's test client, so the API tests
exercise the real client code and the real signing (the signature covers exactly the bytes
and the path that requests prepared) without a server."""
import io
from urllib.parse import urlsplit

import requests
from django.test import Client
from requests.adapters import BaseAdapter, HTTPAdapter
from urllib3 import HTTPResponse
from urllib3._collections import HTTPHeaderDict

BASE_URL = "http://testserver"


class DjangoTestAdapter(BaseAdapter):
    def __init__(self, client: Client | None = None):
        super().__init__()
        self.client = client or Client()
        self._builder = HTTPAdapter()

    def send(self, request: requests.PreparedRequest, stream=False, timeout=None, verify=True, cert=None,
             proxies=None):
        parts = urlsplit(request.url)
        path = parts.path + (f"?{parts.query}" if parts.query else "")
        body = request.body or b""
        if isinstance(body, str):
            body = body.encode("utf-8")
        headers = dict(request.headers)
        content_type = headers.pop("Content-Type", None) or headers.pop("content-type", None) or ""
        for hop in ("Content-Length", "Host", "Connection", "Accept-Encoding"):
            headers.pop(hop, None)
        response = self.client.generic(request.method, path, data=body, content_type=content_type,
                                       headers=headers)
        raw = HTTPResponse(body=io.BytesIO(response.content), headers=HTTPHeaderDict(dict(response.items())),
                           status=response.status_code, reason=response.reason_phrase, preload_content=False,
                           version=11, decode_content=False)
        return self._builder.build_response(request, raw)

    def close(self):
        pass


def django_session() -> requests.Session:
    session = requests.Session()
    session.mount(BASE_URL, DjangoTestAdapter())
    return session

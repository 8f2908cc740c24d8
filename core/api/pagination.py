"""Cursor pagination, newest first: {"results": [...], "next": cursor | null}.

The cursor is an opaque token (URL-safe base64 of the last row's id). Keyset paging on the
primary key: stable while new rows arrive, one indexed range scan per page, no OFFSET. A
cursor only narrows a query already limited to the caller's own rows, so a forged cursor
can show nothing that is not the caller's."""
import base64
import binascii
import json

from django.utils.translation import gettext_lazy as _
from rest_framework import serializers

DEFAULT_LIMIT = 50
MAX_LIMIT = 200


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(json.dumps({"before": last_id}).encode()).decode().rstrip("=")


def decode_cursor(token: str) -> int:
    try:
        padded = token + "=" * (-len(token) % 4)
        data = json.loads(base64.urlsafe_b64decode(padded.encode("ascii")))
        before = data["before"]
        if not isinstance(before, int) or isinstance(before, bool) or not 0 < before < 2**63:
            raise ValueError
        return before
    except (ValueError, KeyError, TypeError, UnicodeError, binascii.Error):
        raise serializers.ValidationError({"cursor": [_("Invalid cursor.")]}, code="invalid") from None


class PageQuerySerializer(serializers.Serializer):
    """Query parameters every cursor-paginated list takes; extend it for filters."""

    cursor = serializers.CharField(required=False, max_length=200,
                                   help_text="The `next` value of the previous page.")
    limit = serializers.IntegerField(required=False, min_value=1, max_value=MAX_LIMIT, default=DEFAULT_LIMIT)

    def validate_cursor(self, value):
        decode_cursor(value)
        return value


def paginate(queryset, *, cursor: str | None, limit: int, key: str = "id"):
    """Return (rows, next_cursor) of a queryset, newest (highest key) first."""
    if cursor:
        queryset = queryset.filter(**{f"{key}__lt": decode_cursor(cursor)})
    rows = list(queryset.order_by(f"-{key}")[: limit + 1])
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (encode_cursor(getattr(rows[-1], key)) if more and rows else None)


def page_serializer(item_serializer, name: str):
    """The page envelope's serializer class, for the OpenAPI schema."""
    return type(name, (serializers.Serializer,), {
        "results": item_serializer(many=True),
        "next": serializers.CharField(allow_null=True, help_text="Cursor of the next page, null on the last."),
    })

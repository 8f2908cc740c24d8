"""Arrays sent to PostgreSQL as one parameter (set-based statements over thousands of rows)."""
from decimal import Decimal


def pg_array(values) -> str:
    """A PostgreSQL array literal (cast it in the SQL: %s::bigint[] ...): one string to send
    instead of psycopg adapting a list element by element (a chunk's arrays hold thousands)."""
    out = []
    for v in values:
        if v is None:
            out.append("NULL")
        elif isinstance(v, bool):
            out.append("t" if v else "f")
        elif isinstance(v, (int, Decimal)):
            out.append(str(v))
        else:
            out.append('"' + str(v).replace("\\", "\\\\").replace('"', '\\"') + '"')
    return "{" + ",".join(out) + "}"

"""A statement file between its preview and its confirm: the one owner of the kept file and of
the signed confirm token.

The preview (a dry run) keeps the uploaded file in a private temporary folder and issues a
token signed for the user who uploaded it, naming the file, the supervision account and the
statement layouts' fingerprint at preview time. The confirm opens the token — refused when
forged, expired, another user's, or already used — and hands the file to the import job, which
owns it from then on (a second confirm of the same token finds nothing)."""
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.core import signing
from django.utils.translation import gettext_lazy as _

from core.errors import ApplicationError

UPLOAD_DIR = Path(tempfile.gettempdir()) / "jianguan-statement-uploads"
SALT = "reconciliation.statement-import"
TOKEN_AGE = 3600  # seconds between the preview and its confirm


class UploadExpired(ApplicationError):
    code, status = "upload_expired", 409
    default_message = _("The upload expired or is not yours: upload the file again.")


@dataclass(frozen=True)
class Ticket:
    """What a valid confirm token names."""

    path: Path
    account: str
    file_name: str
    layouts_fingerprint: str | None


def keep(upload) -> str:
    """Store an uploaded file (a Django UploadedFile) privately; returns its name."""
    UPLOAD_DIR.mkdir(mode=0o700, exist_ok=True)
    name = uuid.uuid4().hex
    with (UPLOAD_DIR / name).open("wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    return name


def kept(name: str) -> Path:
    path = UPLOAD_DIR / name
    if not name.isalnum() or not path.is_file():
        raise FileNotFoundError(name)
    return path


def discard(name: str) -> None:
    try:
        kept(name).unlink(missing_ok=True)
    except FileNotFoundError:
        pass


def issue_token(*, name: str, account: str, file_name: str, user, layouts_fingerprint: str | None) -> str:
    return signing.dumps({"f": name, "a": account, "n": file_name, "u": user.pk, "l": layouts_fingerprint},
                         salt=SALT)


def open_token(token: str, *, user) -> Ticket:
    """The ticket of a token this user was issued, whose file is still waiting; UploadExpired otherwise."""
    try:
        data = signing.loads(token or "", salt=SALT, max_age=TOKEN_AGE)
        if data["u"] != user.pk:
            raise signing.BadSignature("another user's upload")
        return Ticket(kept(data["f"]), data["a"], data["n"], data.get("l"))
    except (signing.BadSignature, FileNotFoundError, KeyError, TypeError):
        raise UploadExpired() from None


def take(ticket: Ticket) -> Path:
    """Move the ticket's file out of the waiting folder, for the job that imports it."""
    target = ticket.path.with_name(f"job-{uuid.uuid4().hex}")
    ticket.path.rename(target)
    return target

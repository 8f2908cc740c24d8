"""Who did it: every service takes an actor — a staff user, a platform (by app id),
a payment channel, or the system (beat tasks, imports)."""
from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser


@dataclass(frozen=True)
class Actor:
    kind: str  # "staff" | "platform" | "channel" | "system"
    label: str
    user: AbstractBaseUser | None = None

    @classmethod
    def staff(cls, user) -> "Actor":
        return cls("staff", user.get_username(), user)

    @classmethod
    def platform(cls, app_id: str) -> "Actor":
        return cls("platform", f"platform:{app_id}")

    @classmethod
    def channel(cls, code: str) -> "Actor":
        return cls("channel", f"channel:{code}")

    @classmethod
    def system(cls, name: str = "system") -> "Actor":
        return cls("system", name)

    @property
    def user_id(self):
        return self.user.pk if self.user is not None else None


SYSTEM = Actor.system()


def as_actor(value) -> Actor:
    if isinstance(value, Actor):
        return value
    if value is None:
        return SYSTEM
    if isinstance(value, AbstractBaseUser):
        return Actor.staff(value)
    raise TypeError(f"not an actor: {value!r}")

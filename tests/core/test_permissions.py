"""core.permissions.require: the one permission check the services share."""
import pytest

from core.actors import SYSTEM, Actor
from core.errors import PermissionRefused
from core.permissions import require
from tests import factories as f

pytestmark = pytest.mark.django_db

BOTH = ("ledger.change_businessday", "ledger.add_businessday")


def test_a_user_holding_the_permission_passes_as_a_staff_actor():
    # given operations staff, when the reversal permission is required, then the actor comes back
    user = f.ops()
    actor = require(user, "ledger.reverse_entry")
    assert actor == Actor.staff(user)


def test_a_user_lacking_the_permission_is_refused():
    # given a relationship manager, when the reversal permission is required, then refused
    with pytest.raises(PermissionRefused):
        require(f.rm(), "ledger.reverse_entry")


def test_an_inactive_user_is_refused_even_with_the_permission():
    # given operations staff whose login was switched off
    user = f.ops(is_active=False)
    # when the permission is required, then refused
    with pytest.raises(PermissionRefused):
        require(user, "ledger.reverse_entry")


def test_every_permission_named_is_needed():
    # given a relationship manager, who may not edit the business calendar
    with pytest.raises(PermissionRefused):
        require(f.rm(), *BOTH, people_only=False)
    # then operations, who hold both, pass
    require(f.ops(), *BOTH, people_only=False)


@pytest.mark.parametrize("actor", [None, SYSTEM, Actor.platform("app"), Actor.channel("wx")])
def test_a_person_s_decision_is_refused_to_anyone_but_staff(actor):
    # given a system job, a platform or a channel, when a person's decision is required, then refused
    with pytest.raises(PermissionRefused) as refusal:
        require(actor, "ledger.reverse_entry", message="Only operations may reverse an entry.")
    assert refusal.value.message == "Only operations may reverse an entry."


@pytest.mark.parametrize("actor", [None, SYSTEM])
def test_a_system_actor_is_not_asked_for_permissions_where_it_may_act(actor):
    # given a system job, when the step allows system actors, then it passes without permissions
    assert require(actor, *BOTH, people_only=False).user is None


def test_without_permissions_any_staff_user_passes_a_person_s_decision():
    # given any staff user, when only a person is required, then they pass
    assert require(f.auditor()).user is not None
    # and without a user the default refusal names bank staff
    with pytest.raises(PermissionRefused) as refusal:
        require(None)
    assert "bank staff" in str(refusal.value.message)

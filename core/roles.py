"""The staff roles and what each may do: one table, applied by a migration and re-applied
after every migrate (so permissions added by later apps reach their groups).

Permission names are "app_label.codename"; "app_label.*view" means every view permission
of that app. The permission-matrix tests read this same table."""
RELATIONSHIP_MANAGER = "relationship_manager"
RISK_OFFICER = "risk_officer"
OPERATIONS = "operations"
AUDITOR = "auditor"
ROLES = (RELATIONSHIP_MANAGER, RISK_OFFICER, OPERATIONS, AUDITOR)

_VIEW_ALL = ["core.*view", "merchants.*view", "ledger.*view", "credit.*view", "reconciliation.*view",
             "core.view_all_merchants"]

ROLE_PERMISSIONS: dict[str, list[str]] = {
    RELATIONSHIP_MANAGER: [
        "merchants.*view", "ledger.*view", "credit.*view", "reconciliation.*view",
        "merchants.add_merchant", "merchants.change_merchant", "merchants.submit_merchant",
        "merchants.rotate_credentials", "merchants.add_member", "merchants.change_member",
        "credit.add_creditapplication", "credit.change_creditapplication", "credit.submit_creditapplication",
    ],
    RISK_OFFICER: _VIEW_ALL + [
        "merchants.approve_merchant", "merchants.freeze_merchant", "merchants.freeze_member",
        "merchants.close_merchant",
        "ledger.add_hold", "ledger.release_hold", "ledger.approve_withdrawal",
        "credit.review_creditapplication", "credit.approve_creditapplication", "credit.manage_creditline",
    ],
    OPERATIONS: _VIEW_ALL + [
        "merchants.activate_merchant", "merchants.rotate_credentials",
        "ledger.approve_withdrawal", "ledger.process_withdrawal", "ledger.reverse_entry",
        "ledger.change_businessday", "ledger.add_businessday", "ledger.delete_businessday",
        "reconciliation.add_statementbatch", "reconciliation.match_statementline",
        "reconciliation.run_endofday", "reconciliation.change_discrepancycase",
        "reconciliation.add_orderfile",
    ],
    AUDITOR: _VIEW_ALL,
}
# Ledger: account freezes (risk) and payment channels (operations).
ROLE_PERMISSIONS[RISK_OFFICER] += ["ledger.freeze_account"]
ROLE_PERMISSIONS[OPERATIONS] += ["ledger.add_paymentchannel", "ledger.change_paymentchannel"]
# Ledger: operations release guaranteed payments (in full or in part) from the admin.
ROLE_PERMISSIONS[OPERATIONS] += ["ledger.release_payment"]
# Reconciliation: operations keep the statement layouts (how each bank writes its export).
ROLE_PERMISSIONS[OPERATIONS] += ["reconciliation.add_statementlayout", "reconciliation.change_statementlayout"]
# Platform API webhooks: operations resend failed deliveries.
ROLE_PERMISSIONS[OPERATIONS] += ["merchants.resend_webhookdelivery"]
# Back office: every role may answer a complaint (the look-up is audited); risk, operations
# and auditors see every RM's performance (an RM sees their own without this permission).
for _role in ROLES:
    ROLE_PERMISSIONS[_role] += ["backoffice.lookup_complaint"]
for _role in (RISK_OFFICER, OPERATIONS, AUDITOR):
    ROLE_PERMISSIONS[_role] += ["backoffice.view_rm_performance", "backoffice.*view"]

# Risk: risk and operations keep the balance monitors and acknowledge their alerts; risk
# recomputes a merchant's risk level; auditors (and everyone of those) read it all.
for _role in (RISK_OFFICER, OPERATIONS, AUDITOR):
    ROLE_PERMISSIONS[_role] += ["risk.*view"]
for _role in (RISK_OFFICER, OPERATIONS):
    ROLE_PERMISSIONS[_role] += ["risk.add_balancemonitor", "risk.change_balancemonitor",
                                "risk.evaluate_balancemonitor", "risk.acknowledge_monitoralert"]
ROLE_PERMISSIONS[RISK_OFFICER] += ["risk.assess_merchant"]
# Outflow rules: risk officers keep them and decide the risk queue (never on a rule they wrote).
ROLE_PERMISSIONS[RISK_OFFICER] += ["risk.add_outflowrule", "risk.change_outflowrule", "risk.decide_riskreview"]
# Payouts: operations build, submit and release payout batches (a second operations user
# approves and releases: maker-checker on the model) and record the bank's answer; auditors read.
for _role in (RISK_OFFICER, OPERATIONS, AUDITOR):
    ROLE_PERMISSIONS[_role] += ["payouts.*view"]
ROLE_PERMISSIONS[OPERATIONS] += ["payouts.build_payoutbatch", "payouts.release_payoutbatch",
                                 "payouts.settle_payoutbatch"]

def role_permissions(apps=None):
    """Resolve the table to Permission rows (missing ones are skipped: a later app adds them)."""
    from django.contrib.auth.models import Permission

    Perm = apps.get_model("auth", "Permission") if apps else Permission
    result = {}
    for role, names in ROLE_PERMISSIONS.items():
        perms = []
        for name in names:
            app_label, codename = name.split(".", 1)
            qs = Perm.objects.filter(content_type__app_label=app_label)
            if codename == "*view":
                perms.extend(qs.filter(codename__startswith="view_"))
            else:
                perms.extend(qs.filter(codename=codename))
        result[role] = perms
    return result


def sync_roles(apps=None, **kwargs):
    from django.contrib.auth.models import Group

    GroupModel = apps.get_model("auth", "Group") if apps else Group
    for role, perms in role_permissions(apps).items():
        group, _ = GroupModel.objects.get_or_create(name=role)
        group.permissions.set(perms)

# Receipts: every role lists the receipts issued for the merchants it may see (downloads are
# checked against the ledger's view permission of the movement).
for _role in ROLES:
    ROLE_PERMISSIONS[_role] += ["receipts.*view"]

# Risk: the risk reserve (风险保证金). A risk officer requests a policy, a compensation or a release;
# a second risk officer approves it (maker-checker on the model: never the requester).
ROLE_PERMISSIONS[RISK_OFFICER] += [
    "risk.request_reservepolicy", "risk.approve_reservepolicy",
    "risk.request_reservecompensation", "risk.approve_reservecompensation",
    "risk.request_reserverelease", "risk.approve_reserverelease",
]

"""Credit services, one module per topic; the public functions are re-exported here."""
from .applications import (  # noqa: F401
    credit_application_approve,
    credit_application_create,
    credit_application_reject,
    credit_application_review,
    credit_application_submit,
    credit_application_update,
    validate_application,
)
from .drawdowns import credit_drawdown  # noqa: F401
from .lines import credit_line_close, credit_line_reactivate, credit_line_suspend  # noqa: F401
from .notifications import credit_notification_mark_read  # noqa: F401
from .overdue import SweepResult, credit_sweep_overdue  # noqa: F401
from .repayments import credit_repay  # noqa: F401

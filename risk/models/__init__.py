"""The risk office's rows, by topic: balance monitors, their alerts and the computed risk level
(monitors); the risk reserve's decisions (reserve); outflow rules, their hits and the risk queue
(rules)."""
from .monitors import (  # noqa: F401
    FIELD_KIND,
    MEMBER_FIELDS,
    BalanceMonitor,
    MonitorAlert,
    MonitorField,
    Operator,
    RiskAssessment,
)
from .reserve import (  # noqa: F401
    RESERVE_WINDOW_DAYS,
    DecisionStatus,
    ReserveCompensation,
    ReserveDecision,
    ReservePolicy,
    ReserveRelease,
)
from .rules import (  # noqa: F401
    DECIDE_PERMISSION,
    KIND_MOVEMENTS,
    KIND_PARAMETERS,
    RISK_ORDER,
    Mode,
    Movement,
    Outcome,
    OutflowRule,
    RiskReview,
    RuleHit,
    RuleKind,
    Window,
)

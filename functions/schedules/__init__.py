"""EventBridge-scheduled jobs (the SLA sweep)."""

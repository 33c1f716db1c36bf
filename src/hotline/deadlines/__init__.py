"""Deadlines kept (R12, R15, R18-R20): the one scheduler that warns an owner, escalates an
overdue deadline to the supervisors and closes a served case no one complained about; the
working-day calendar's local exceptions; follow-up calls offered to the case's owner."""

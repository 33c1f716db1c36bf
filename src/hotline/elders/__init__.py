"""Elders' records (R22, R27): the full record, search, audited edits, and the log of who
looked at which record and why."""

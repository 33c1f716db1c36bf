"""Retention (R27): what is kept how long, the daily purge, and the legal hold on a case."""

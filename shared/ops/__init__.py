"""Operator signals: the PRD's alerts, their current values, and the log lines Cloud Monitoring watches."""

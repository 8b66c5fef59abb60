"""How each video did (FR-9): daily metric snapshots per platform post, and reports on them.

`collect.collect_due` is a duty of the minute tick; `report` answers the user's
questions through their own transaction (RLS).
"""

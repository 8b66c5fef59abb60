"""Putting shortpub on Google Cloud: functions, queues, scheduler, secrets, IAM, migrations."""

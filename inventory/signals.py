"""What inventory announces; higher layers (posture) listen instead of being called."""

from django.dispatch import Signal

# Sent after a SyncRun finished (also when regions failed). Arguments: run, account.
sync_finished = Signal()

"""What the checker announces; posture listens and re-evaluates."""

from django.dispatch import Signal

# Sent after a CheckRun finished. Arguments: run, instance_ids.
check_finished = Signal()

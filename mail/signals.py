from django.dispatch import Signal

# Sent at the start of each pass of the mail job, before anything is sent: an app whose email the worker decides
# on (a reset link, only for an account that exists) queues it then, and it leaves in the same pass.
outbox_filling = Signal()

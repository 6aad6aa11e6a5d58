from django.dispatch import Signal

# Sent with `user` inside the transaction that deletes the account, before its row goes: apps that keep personal
# data about the person (invites' redemption records) erase it there, so it goes with the account or not at all.
account_purging = Signal()

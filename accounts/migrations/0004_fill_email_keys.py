"""Every existing account gets its email_key; two accounts with one key stop the migration, named."""

from collections import defaultdict

from django.db import migrations

from accounts.emails import email_key


def fill_email_keys(apps, schema_editor):
    User = apps.get_model("accounts", "User")
    users = list(User.objects.only("pk", "email"))
    by_key = defaultdict(list)
    for user in users:
        user.email_key = email_key(user.email)
        by_key[user.email_key].append(user.email)
    clashes = {key: emails for key, emails in by_key.items() if len(emails) > 1}
    if clashes:
        listed = "; ".join(" and ".join(repr(e) for e in emails) for emails in clashes.values())
        raise RuntimeError(
            f"These accounts are one email in different spellings: {listed}. Change or remove all but one of "
            "each (Django admin) and run the migration again."
        )
    User.objects.bulk_update(users, ["email_key"], batch_size=1000)


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0003_user_email_key"),
    ]

    operations = [
        migrations.RunPython(fill_email_keys, migrations.RunPython.noop),
    ]

"""The benchmark's own PostgreSQL database, made anew each run, and the rows the scenarios start from."""

import subprocess
import sys
from dataclasses import dataclass

import psycopg
from psycopg import sql

from tests.helpers.constants import PASSWORD
from tests.helpers.processes import ROOT

BENCH_EMAIL = "bench@example.com"
BYSTANDER_EMAIL = "bystander@example.com"


@dataclass(frozen=True)
class BenchUser:
    id: str
    email: str
    access_token: str
    password_hash: str
    plan: str  # the stored value, e.g. "enterprise"
    token_version: int


def recreate_database(database_url: str) -> None:
    """Drop and create the database in `database_url`, then migrate it (with the environment's settings)."""
    base, name = database_url.rsplit("/", 1)
    with psycopg.connect(f"{base}/postgres", autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, check=True, timeout=300)


def create_bench_user(*, email: str = BENCH_EMAIL, plan: str = "enterprise") -> BenchUser:
    """A user (by default enterprise: no entity cap, no message limit) with the suite's password, and an access
    token for it."""
    from django.contrib.auth.hashers import make_password

    from accounts.models import User
    from accounts.services import tokens_for

    user = User.objects.create(email=email, password=make_password(PASSWORD), first_name="Bench", plan=plan)
    return BenchUser(
        id=str(user.pk),
        email=user.email,
        access_token=tokens_for(user=user)["access_token"],
        password_hash=user.password,
        plan=str(user.plan.value if hasattr(user.plan, "value") else user.plan),
        token_version=user.token_version,
    )


def fresh_access_token(user_id: str) -> str:
    """A new access token for a user made earlier in the run (an access token lives 30 minutes)."""
    from accounts.models import User
    from accounts.services import tokens_for

    return tokens_for(user=User.objects.get(pk=user_id))["access_token"]

"""What the load scenarios drive: the running wisdom and double, the benchmark user, and the command log."""

from dataclasses import dataclass

from bench.commands import CommandLog
from tests.helpers.double import DoubleProcess

ENTITY = "bench-entity"


@dataclass(frozen=True)
class Target:
    wisdom_url: str
    wisdom_pid: int  # the gunicorn master; its CPU and memory include its workers'
    double: DoubleProcess
    user_id: str
    user_email: str
    access_token: str
    commands: CommandLog

    @property
    def entity_url(self) -> str:
        """The proxied entity, through wisdom."""
        return f"{self.wisdom_url}/personal/entities/{ENTITY}"

    @property
    def direct_entity_url(self) -> str:
        """The same entity, straight from the double."""
        return f"{self.double.url}/entities/{ENTITY}"

    @property
    def auth_headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.access_token}"}

    @property
    def direct_headers(self) -> dict[str, str]:
        """What wisdom itself sends upstream for this user."""
        return {"X-API-Key": self.double.api_key, "X-User-Id": self.user_id}

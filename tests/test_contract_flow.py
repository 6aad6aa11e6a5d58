"""The contract as a TypeScript frontend consumes it: contract/ generates an SDK from the committed openapi.yaml
with the pinned @hey-api/openapi-ts, compiles contract/src/flow.ts against it with `tsc --strict`, and runs it
against a live wisdom (gunicorn, the agents double behind it). The flow configures the client with only
`auth: () => token` and walks login, me, invites, entities, pause/resume, chat (whole, a retry with an
Idempotency-Key answered again, a reused key refused, and streamed to its `done` event) and both quota 429s.

Needs Node 20 and npm (`npm ci` installs the locked packages on first use). Without them the test is skipped
with the reason, unless WISDOM_CONTRACT_REQUIRED=1 (`make contract`, CI), which makes their absence a failure.
"""

import os
import shutil
import subprocess

import pytest

from tests.helpers.constants import CONTRACT_MESSAGES_PER_MINUTE, PASSWORD
from tests.helpers.processes import ROOT

pytestmark = [pytest.mark.live, pytest.mark.contract, pytest.mark.django_db(transaction=True)]

CONTRACT = ROOT / "contract"
INSTALL_SECONDS = 600
BUILD_SECONDS = 300
FLOW_SECONDS = 180


def _tools_or_skip() -> None:
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if not missing:
        return
    reason = f"the contract flow needs {' and '.join(missing)} (Node 20 with npm)"
    if os.environ.get("WISDOM_CONTRACT_REQUIRED") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def _run(command: list[str], *, seconds: float, env: dict | None = None) -> subprocess.CompletedProcess:
    done = subprocess.run(
        command,
        cwd=CONTRACT,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=seconds,
        check=False,
    )
    print(f"$ {' '.join(command)}\n{done.stdout}{done.stderr}")
    return done


@pytest.fixture(scope="module")
def compiled_flow() -> None:
    """`npm ci` when the locked packages are not installed yet, then the SDK generated afresh and the flow built."""
    _tools_or_skip()
    installed = CONTRACT / "node_modules" / ".package-lock.json"
    lock = CONTRACT / "package-lock.json"
    if not installed.exists() or installed.stat().st_mtime < lock.stat().st_mtime:
        assert _run(["npm", "ci", "--no-audit", "--no-fund"], seconds=INSTALL_SECONDS).returncode == 0, "npm ci failed"
    assert _run(["npm", "run", "generate"], seconds=BUILD_SECONDS).returncode == 0, "the SDK did not generate"
    built = _run(["npm", "run", "build"], seconds=BUILD_SECONDS)
    assert built.returncode == 0, f"the flow does not compile against the generated SDK:\n{built.stdout}"


def test_a_frontend_with_only_a_bearer_token_completes_the_whole_flow_through_the_generated_sdk(
    compiled_flow, contract_server, make_live_user
):
    staff = make_live_user(email="contract-staff@example.com", first_name="Stella", is_staff=True)

    flow = _run(
        ["node", "dist/src/flow.js"],
        seconds=FLOW_SECONDS,
        env={
            "WISDOM_URL": contract_server.url,
            "STAFF_EMAIL": staff.email,
            "STAFF_PASSWORD": PASSWORD,
            "MESSAGES_PER_MINUTE": str(CONTRACT_MESSAGES_PER_MINUTE),
        },
    )

    assert flow.returncode == 0, f"{flow.stdout}\n{flow.stderr}\n--- wisdom's log ---\n{contract_server.log()[-4000:]}"
    assert flow.stdout.rstrip().endswith(" passed, 0 failed")

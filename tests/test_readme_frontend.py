"""The README's Frontend section is a script: its shell blocks, taken from README.md as written and run in order in
an empty folder against a live wisdom, install the pinned tools, generate the SDK and compile a strict TypeScript
file; the compiled `streamMessage` and `ask` then talk to that wisdom.

Needs Node 20 and npm, and the npm registry. Without Node the test is skipped with the reason, unless
WISDOM_CONTRACT_REQUIRED=1 (`make contract`, CI), which makes its absence a failure.
"""

import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.helpers.constants import PASSWORD
from tests.helpers.processes import ROOT

pytestmark = [pytest.mark.live, pytest.mark.contract, pytest.mark.django_db(transaction=True)]

BLOCK_SECONDS = 600
DRIVE_SECONDS = 120
SHELL_BLOCK = re.compile(r"^```sh\n(.*?)^```$", re.MULTILINE | re.DOTALL)

# Loads what the README's blocks compiled and uses it as a frontend would: log in, a whole reply, a streamed one,
# and a stream refused before it began.
DRIVER = """
const { login, createEntity } = require('./dist/client/sdk.gen.js');
const { useWisdom, ask, streamMessage } = require('./dist/wisdom.js');

async function collect(name, content) {
  const events = [];
  for await (const event of streamMessage(name, content)) events.push(event);
  return events;
}

(async () => {
  let token;
  useWisdom(process.env.WISDOM_URL, () => token);
  const signedIn = await login({ body: { email: process.env.EMAIL, password: process.env.PASSWORD } });
  token = signedIn.data.access_token;
  const created = await createEntity({ body: { name: 'readme-ada' } });
  const reply = await ask('readme-ada', 'What next?');
  const streamed = await collect('readme-ada', 'And then?');
  const refused = await collect('nobody-here', 'Hello?');
  console.log(JSON.stringify({ created: created.response.status, reply, streamed, refused }));
})().catch((failure) => { console.error(failure); process.exit(1); });
"""


def frontend_blocks(readme: str) -> list[str]:
    """The ```sh blocks of the README's `## Frontend` section, in order."""
    start = readme.index("\n## Frontend\n")
    end = readme.index("\n## ", start + 1)
    return SHELL_BLOCK.findall(readme[start:end])


def _node_or_skip() -> None:
    missing = [tool for tool in ("node", "npm") if shutil.which(tool) is None]
    if not missing:
        return
    reason = f"the README's frontend script needs {' and '.join(missing)} (Node 20 with npm)"
    if os.environ.get("WISDOM_CONTRACT_REQUIRED") == "1":
        pytest.fail(reason)
    pytest.skip(reason)


def _run(command: list[str], *, cwd: Path, env: dict, seconds: float) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=seconds, check=False)


def test_the_readme_frontend_section_has_the_pinned_install_the_generation_and_a_strict_compile():
    blocks = frontend_blocks((ROOT / "README.md").read_text())
    script = "\n".join(blocks)

    assert len(blocks) >= 3
    assert "typescript@5.9.3" in script and "@hey-api/openapi-ts@0.95.0" in script and "--save-exact" in script
    assert "-o src/client" in script and "${WISDOM_URL:-http://127.0.0.1:8000}/api/schema" in script
    assert "npx tsc --strict" in script and "streamMessage" in script


def test_the_readme_frontend_blocks_run_verbatim_in_an_empty_folder_against_a_live_wisdom(
    tmp_path, contract_server, make_live_user
):
    _node_or_skip()
    person = make_live_user(email="readme-frontend@example.com")
    folder = tmp_path / "frontend"
    folder.mkdir()
    env = {**os.environ, "WISDOM_URL": contract_server.url}

    for number, block in enumerate(frontend_blocks((ROOT / "README.md").read_text()), start=1):
        done = _run(["bash", "-euo", "pipefail", "-c", block], cwd=folder, env=env, seconds=BLOCK_SECONDS)
        assert done.returncode == 0, f"block {number} failed:\n{block}\n--- out ---\n{done.stdout}\n{done.stderr}"

    installed = json.loads((folder / "package.json").read_text())["devDependencies"]
    assert installed == {"typescript": "5.9.3", "@hey-api/openapi-ts": "0.95.0"}
    generated = (folder / "src" / "client" / "types.gen.ts").read_text()
    assert "export type SendMessageResponses = {\n    201: MessageReply;\n};" in generated
    (folder / "drive.cjs").write_text(DRIVER)
    drive = _run(
        ["node", "drive.cjs"],
        cwd=folder,
        env={**env, "EMAIL": person.email, "PASSWORD": PASSWORD},
        seconds=DRIVE_SECONDS,
    )
    assert drive.returncode == 0, f"{drive.stdout}\n{drive.stderr}\n--- wisdom ---\n{contract_server.log()[-3000:]}"
    seen = json.loads(drive.stdout.strip().splitlines()[-1])

    assert seen["created"] == 201
    assert set(seen["reply"]) == {"message_id", "reply"} and seen["reply"]["reply"]
    *deltas, last = seen["streamed"]
    assert deltas and all(event["event"] == "delta" for event in deltas)
    assert last["event"] == "done" and last["data"]["reply"] == "".join(event["data"]["text"] for event in deltas)
    [refused] = seen["refused"]
    assert refused["event"] == "error" and refused["data"]["status"] == 404 and refused["data"]["detail"]


def test_make_run_s_banner_gives_the_readme_s_pinned_install_and_sdk_folder():
    banner = (ROOT / "scripts" / "dev-run").read_text()
    script = "\n".join(frontend_blocks((ROOT / "README.md").read_text()))
    install = re.search(r"npm install --save-dev --save-exact (\S+) (\S+)\n", banner)
    generate = re.search(r"npx openapi-ts -i \$url/api/schema -o (\S+)\n", banner)

    assert install is not None and generate is not None, banner
    assert re.search(rf"npm install .*--save-exact .*{re.escape(' '.join(install.groups()))}\n", script)
    assert f'npx openapi-ts -i "${{WISDOM_URL:-http://127.0.0.1:8000}}/api/schema" -o {generate[1]}\n' in script

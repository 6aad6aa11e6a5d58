"""`make run`'s first step: write a development .env when there is none (never over an existing one), so that
manage.py works the same in any terminal; then print, as shell assignments for scripts/dev-run, the ports and
addresses this run uses (the environment first, then the .env file, then the defaults).

WISDOM_ENV_FILE names another file than ./.env (tests use it; settings.py reads the same variable).
"""

import os
import secrets
import shlex
import sys
from pathlib import Path

import environ

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_PORTS = {"WISDOM_PORT": 8000, "AGENTS_DOUBLE_PORT": 8001}
DEV_AGENTS_KEY = "dev-agents-key"


class _FileOnly(environ.Env):
    """Reads a .env file into its own dict instead of os.environ."""

    ENVIRON: dict[str, str] = {}


def dev_env_text(*, wisdom_port: int, agents_port: int) -> str:
    return f"""\
# Development settings, written by `make run` because there was no .env; it never overwrites one.
# Never deploy this file: DJANGO_DEBUG=true turns off production's safeguards.
DJANGO_DEBUG=true
DJANGO_SECRET_KEY={secrets.token_urlsafe(50)}
# Keys for local use only: X-Service-Key callers, and wisdom to the agents double.
AGENTS_SERVICE_API_KEY=dev-service-key
INTUNO_AGENTS_API_KEY={DEV_AGENTS_KEY}
# The ports `make run` binds and the addresses that point at them; change them together.
WISDOM_PORT={wisdom_port}
AGENTS_DOUBLE_PORT={agents_port}
BASE_URL=http://127.0.0.1:{wisdom_port}
INTUNO_AGENTS_BASE_URL=http://127.0.0.1:{agents_port}
"""


def _fail(message: str) -> None:
    print(f"wisdom: {message}", file=sys.stderr)
    sys.exit(2)


def _port(name: str, raw: str) -> int:
    if not raw.isdigit() or not 1 <= int(raw) <= 65535:
        _fail(f"{name} must be a port number (1-65535), not {raw!r}")
    return int(raw)


def _read(env_file: Path) -> dict[str, str]:
    if not env_file.exists():
        return {}
    _FileOnly.ENVIRON = {}
    _FileOnly.read_env(env_file)
    return dict(_FileOnly.ENVIRON)


def _write(env_file: Path, *, wisdom_port: int, agents_port: int) -> None:
    # O_EXCL: never over a file that appeared meanwhile; 0600: it holds a secret key.
    fd = os.open(env_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(dev_env_text(wisdom_port=wisdom_port, agents_port=agents_port))


def main() -> None:
    env_file = Path(os.environ.get("WISDOM_ENV_FILE") or ROOT / ".env")
    from_file = _read(env_file)

    def value(name: str, default: str) -> str:
        return os.environ.get(name) or from_file.get(name) or default

    def file_port(name: str) -> str:
        return from_file.get(name) or str(DEFAULT_PORTS[name])

    ports = {name: _port(name, value(name, str(default))) for name, default in DEFAULT_PORTS.items()}

    def local_address(name: str, port_name: str) -> str:
        """Set in the environment or by hand (a tunnel, a real service): kept; the local one follows the port."""
        if os.environ.get(name):
            return os.environ[name].rstrip("/")
        in_file = from_file.get(name, "").rstrip("/")
        if in_file and in_file != f"http://127.0.0.1:{file_port(port_name)}":
            return in_file
        return f"http://127.0.0.1:{ports[port_name]}"

    if not env_file.exists():
        _write(env_file, wisdom_port=ports["WISDOM_PORT"], agents_port=ports["AGENTS_DOUBLE_PORT"])
        print(f"wrote {env_file}: development settings that manage.py reads in any terminal", file=sys.stderr)
    else:
        for name, port in ports.items():
            if file_port(name) != str(port):
                print(
                    f"note: this run uses {name}={port} but {env_file} says {file_port(name)}; commands in "
                    f"another terminal read {env_file}: set {name} and the address using it there",
                    file=sys.stderr,
                )
        if not value("DJANGO_DEBUG", ""):
            print(
                f"note: {env_file} does not set DJANGO_DEBUG=true: wisdom starts with production settings",
                file=sys.stderr,
            )

    agents_url = local_address("INTUNO_AGENTS_BASE_URL", "AGENTS_DOUBLE_PORT")
    assignments = {
        "WISDOM_PORT": str(ports["WISDOM_PORT"]),
        "AGENTS_DOUBLE_PORT": str(ports["AGENTS_DOUBLE_PORT"]),
        "BASE_URL": local_address("BASE_URL", "WISDOM_PORT"),
        "INTUNO_AGENTS_BASE_URL": agents_url,
        "INTUNO_AGENTS_API_KEY": value("INTUNO_AGENTS_API_KEY", DEV_AGENTS_KEY),
        # The double stands in only where wisdom is pointed at it; a real agents service is left to answer.
        "START_AGENTS_DOUBLE": "1" if agents_url == f"http://127.0.0.1:{ports['AGENTS_DOUBLE_PORT']}" else "",
    }
    for name, assigned in assignments.items():
        print(f"{name}={shlex.quote(assigned)}")


if __name__ == "__main__":
    main()

"""Who may use the app and what each role sees: sign-in against bcrypt hashes, pages by role.

Auth is configured by an `app.auth` section in a TOML or YAML file: $CASELOAD_AUTH_FILE when set, else
Streamlit's `.streamlit/secrets.toml` in the working directory. Without such a section the app is open
(a coordinator running it on their own machine); with it, the app asks for sign-in first.

    # .streamlit/secrets.toml                    # or auth.yaml (CASELOAD_AUTH_FILE=auth.yaml)
    [app.auth.users.amira]                       # app:
    password_hash = "$2b$12$..."                 #   auth:
    role = "coordinator"                         #     users:
                                                 #       amira: {password_hash: "$2b$12$...", role: coordinator}

Roles: a `coordinator` runs the nightly assignment and sees everything; a `manager` sees everything too;
a `funder` sees only the Scenarios page (the simulation of funding levels), never client-level pages.
Passwords are never stored: `caseload user add NAME --role ROLE` writes a bcrypt hash.

For the Streamlit app:

    config = load_auth()                       # None: no sign-in needed; raises AuthConfigError if broken
    user = authenticate(name, password, config)  # a User, or None for a wrong name or password
    visible = pages_for(user.role, APP_PAGES)    # the pages this user may open, in the app's order
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache
from pathlib import Path
from typing import Any

import bcrypt
import yaml

ENV_AUTH_FILE = "CASELOAD_AUTH_FILE"
DEFAULT_AUTH_FILE = Path(".streamlit") / "secrets.toml"
SCENARIOS_PAGE = "Scenarios"
# The app's pages, for callers that do not pass their own list. A funder sees only SCENARIOS_PAGE.
DEFAULT_PAGES = ("Nightly assignment", "Waitlist", "History", "Staffing", SCENARIOS_PAGE)  # as in app.views.PAGES
USERNAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
BCRYPT_MAX_BYTES = 72  # bcrypt ignores (5.x: refuses) anything longer
MIN_PASSWORD_CHARS = 8


@cache
def _dummy_hash() -> bytes:
    """Checked against when the user name is unknown, so a wrong name costs as long as a wrong password."""
    return bcrypt.hashpw(b"caseload-no-such-user", bcrypt.gensalt())


class Role(StrEnum):
    COORDINATOR = "coordinator"
    MANAGER = "manager"
    FUNDER = "funder"


class AuthConfigError(Exception):
    """The auth file is broken (unknown role, missing hash) or cannot be written. The app must not fall
    back to being open when this is raised: it refuses to start instead."""


@dataclass(frozen=True, slots=True)
class User:
    """A signed-in user: the name they signed in with and their role."""

    username: str
    role: Role


@dataclass(frozen=True, slots=True)
class AuthConfig:
    """The configured users: name -> (bcrypt hash, role)."""

    users: Mapping[str, tuple[bytes, Role]]
    source: Path | None = None


def auth_file() -> Path:
    """Where the auth configuration is read from (and written to by `caseload user add`)."""
    return Path(os.environ.get(ENV_AUTH_FILE) or DEFAULT_AUTH_FILE)


def parse_role(text: str) -> Role:
    try:
        return Role(text.strip().lower())
    except ValueError:
        raise AuthConfigError(f"role {text!r}: must be one of {', '.join(r.value for r in Role)}") from None


def _read_document(path: Path) -> dict[str, Any]:
    text = path.read_text(encoding="utf-8-sig")
    try:
        if path.suffix.lower() in (".yaml", ".yml"):
            data = yaml.safe_load(text) or {}
        else:
            data = tomllib.loads(text)
    except (yaml.YAMLError, tomllib.TOMLDecodeError) as exc:
        raise AuthConfigError(f"{path}: cannot be read ({exc})") from None
    if not isinstance(data, dict):
        raise AuthConfigError(f"{path}: must be a mapping")
    return data


def _auth_section(data: Mapping[str, Any]) -> Mapping[str, Any] | None:
    app = data.get("app")
    section = app.get("auth") if isinstance(app, Mapping) else None
    return section if isinstance(section, Mapping) else None


def load_auth(path: Path | str | None = None) -> AuthConfig | None:
    """The auth configuration, or None when there is no `app.auth` section (sign-in not required).

    Raises AuthConfigError when the section is there but broken, so a typo never opens the app.
    """
    file = Path(path) if path is not None else auth_file()
    if not file.is_file():
        return None
    section = _auth_section(_read_document(file))
    if section is None:
        return None
    users_raw = section.get("users") or {}
    if not isinstance(users_raw, Mapping):
        raise AuthConfigError(f"{file}: app.auth.users must be a table of users")
    users: dict[str, tuple[bytes, Role]] = {}
    for name, entry in users_raw.items():
        if not isinstance(entry, Mapping):
            raise AuthConfigError(f"{file}: user {name}: must have password_hash and role")
        hashed = entry.get("password_hash")
        if not isinstance(hashed, str) or not hashed.startswith("$2"):
            raise AuthConfigError(f"{file}: user {name}: password_hash must be a bcrypt hash ($2b$...)")
        try:
            role = parse_role(str(entry.get("role", "")))
        except AuthConfigError as exc:
            raise AuthConfigError(f"{file}: user {name}: {exc}") from None
        users[str(name)] = (hashed.encode("ascii"), role)
    return AuthConfig(users=users, source=file)


def auth_required(path: Path | str | None = None) -> bool:
    """True when the app must ask for sign-in (an `app.auth` section exists)."""
    return load_auth(path) is not None


def hash_password(password: str) -> str:
    """A bcrypt hash of the password (refused when too short, or too long for bcrypt)."""
    if len(password) < MIN_PASSWORD_CHARS:
        raise AuthConfigError(f"password must have at least {MIN_PASSWORD_CHARS} characters")
    encoded = password.encode("utf-8")
    if len(encoded) > BCRYPT_MAX_BYTES:
        raise AuthConfigError(f"password must be at most {BCRYPT_MAX_BYTES} bytes long (a bcrypt limit)")
    return bcrypt.hashpw(encoded, bcrypt.gensalt()).decode("ascii")


def authenticate(username: str, password: str, config: AuthConfig | None = None) -> User | None:
    """The user when the name and password match a configured user, else None.

    Reads the default auth file when `config` is not given. Returns None (never raises) for an unknown
    name, a wrong password, or no auth configured; an unknown name takes as long as a wrong password.
    """
    if config is None:
        config = load_auth()
    encoded = password.encode("utf-8")
    entry = config.users.get(username) if config is not None else None
    if entry is None or len(encoded) > BCRYPT_MAX_BYTES:
        bcrypt.checkpw(b"wrong", _dummy_hash())
        return None
    hashed, role = entry
    try:
        ok = bcrypt.checkpw(encoded, hashed)
    except ValueError:  # a malformed hash in the file: treat as a failed sign-in
        return None
    return User(username=username, role=role) if ok else None


def pages_for(role: Role | str, pages: Sequence[str] = DEFAULT_PAGES) -> list[str]:
    """The pages a role may see, in the order given: a funder only the Scenarios page, others all of them."""
    parsed = role if isinstance(role, Role) else parse_role(role)
    if parsed == Role.FUNDER:
        return [p for p in pages if p == SCENARIOS_PAGE]
    return list(pages)


def can_see(role: Role | str, page: str) -> bool:
    """Whether a role may open a page (check it on every page, not only in the menu)."""
    return page in pages_for(role, [page])


def _toml_table_pattern(name: str) -> re.Pattern[str]:
    key = re.escape(name)
    return re.compile(rf'^\[\s*app\.auth\.users\.(?:{key}|"{key}")\s*\]\s*$')


def _toml_with_user(text: str, name: str, hashed: str, role: Role) -> str:
    """The TOML text with user `name`'s table replaced or appended; the rest of the file is kept as is."""
    header = _toml_table_pattern(name)
    lines = text.splitlines()
    kept: list[str] = []
    skipping = False
    for line in lines:
        if header.match(line.strip()):
            skipping = True
            continue
        if skipping and line.strip().startswith("["):
            skipping = False
        if not skipping:
            kept.append(line)
    while kept and not kept[-1].strip():
        kept.pop()
    block = [f'[app.auth.users."{name}"]', f'password_hash = "{hashed}"', f'role = "{role.value}"']
    return "\n".join(kept + ([""] if kept else []) + block) + "\n"


def add_user(path: Path | str, username: str, password: str, role: Role | str) -> None:
    """Add or update a user in the auth file (created if missing, readable by its owner only)."""
    from caseload.contract_io import atomic_write_text

    if not USERNAME.match(username):
        raise AuthConfigError("user name: 1-64 letters, digits, '.', '_', '@' or '-', starting with a letter or digit")
    parsed = role if isinstance(role, Role) else parse_role(role)
    hashed = hash_password(password)
    file = Path(path)
    existing = file.read_text(encoding="utf-8-sig") if file.is_file() else ""
    if file.suffix.lower() in (".yaml", ".yml"):
        data = (yaml.safe_load(existing) or {}) if existing else {}
        if not isinstance(data, dict):
            raise AuthConfigError(f"{file}: must be a mapping")
        users = data.setdefault("app", {}).setdefault("auth", {}).setdefault("users", {})
        users[username] = {"password_hash": hashed, "role": parsed.value}
        new_text = yaml.safe_dump(data, sort_keys=False)
    else:
        new_text = _toml_with_user(existing, username, hashed, parsed)
        try:
            written = tomllib.loads(new_text)
        except tomllib.TOMLDecodeError as exc:
            raise AuthConfigError(
                f"{file}: cannot add the user without breaking the file ({exc}); add this table by hand:\n"
                + "\n".join(new_text.splitlines()[-3:])
            ) from None
        section = _auth_section(written) or {}
        if (section.get("users") or {}).get(username, {}).get("password_hash") != hashed:
            raise AuthConfigError(f"{file}: the user could not be written; add the table [app.auth.users] by hand")
    atomic_write_text(file, new_text)
    os.chmod(file, 0o600)  # it holds password hashes: readable by its owner only

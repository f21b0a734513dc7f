"""Access: with `app.auth` configured the app asks for sign-in, and a funder sees only the Scenarios page."""

from __future__ import annotations

import os
import stat
import tomllib
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from caseload.auth import (
    DEFAULT_PAGES,
    ENV_AUTH_FILE,
    SCENARIOS_PAGE,
    AuthConfigError,
    Role,
    User,
    add_user,
    auth_required,
    authenticate,
    can_see,
    hash_password,
    load_auth,
    pages_for,
)
from caseload.cli import app

runner = CliRunner()
PASSWORD = "correct horse battery"


@pytest.fixture(scope="module")
def users_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("auth") / "secrets.toml"
    path.write_text('[connections.other]\nurl = "kept as is"  # a comment\n', encoding="utf-8")
    add_user(path, "amira", PASSWORD, Role.COORDINATOR)
    add_user(path, "bao", PASSWORD + "!", "manager")
    add_user(path, "funder.one", PASSWORD + "?", "funder")
    return path


def test_no_auth_section_means_no_sign_in(tmp_path: Path) -> None:
    assert load_auth(tmp_path / "missing.toml") is None
    other = tmp_path / "secrets.toml"
    other.write_text('[connections.db]\nurl = "x"\n', encoding="utf-8")
    assert not auth_required(other)
    assert authenticate("amira", PASSWORD, load_auth(other)) is None


def test_sign_in_with_the_right_password_only(users_file: Path) -> None:
    config = load_auth(users_file)
    assert config is not None and auth_required(users_file)
    assert authenticate("amira", PASSWORD, config) == User("amira", Role.COORDINATOR)
    assert authenticate("funder.one", PASSWORD + "?", config) == User("funder.one", Role.FUNDER)
    assert authenticate("amira", PASSWORD + "x", config) is None
    assert authenticate("nobody", PASSWORD, config) is None
    assert authenticate("amira", "", config) is None
    assert authenticate("amira", "x" * 200, config) is None  # over bcrypt's 72 bytes: refused, not truncated


def test_the_file_keeps_other_secrets_and_holds_only_hashes(users_file: Path) -> None:
    text = users_file.read_text(encoding="utf-8")
    assert PASSWORD not in text
    data = tomllib.loads(text)
    assert data["connections"]["other"]["url"] == "kept as is" and "# a comment" in text
    assert data["app"]["auth"]["users"]["amira"]["password_hash"].startswith("$2")
    assert stat.S_IMODE(os.stat(users_file).st_mode) == 0o600


def test_adding_a_user_again_changes_their_password_and_role(tmp_path: Path) -> None:
    path = tmp_path / "secrets.toml"
    add_user(path, "amira", PASSWORD, "coordinator")
    add_user(path, "amira", "a new passphrase", "manager")
    config = load_auth(path)
    assert authenticate("amira", PASSWORD, config) is None
    assert authenticate("amira", "a new passphrase", config) == User("amira", Role.MANAGER)
    assert list(tomllib.loads(path.read_text())["app"]["auth"]["users"]) == ["amira"]


def test_a_funder_sees_only_the_scenarios_page() -> None:
    assert pages_for(Role.FUNDER) == [SCENARIOS_PAGE]
    assert pages_for("funder", ["Assignment", "Staffing", "Scenarios"]) == ["Scenarios"]
    assert not can_see(Role.FUNDER, "Nightly assignment") and can_see(Role.FUNDER, SCENARIOS_PAGE)
    for role in (Role.COORDINATOR, Role.MANAGER):
        assert pages_for(role) == list(DEFAULT_PAGES)
        assert can_see(role, "Nightly assignment")
    with pytest.raises(AuthConfigError):
        pages_for("guest")


def test_yaml_auth_file(tmp_path: Path) -> None:
    path = tmp_path / "auth.yaml"
    add_user(path, "bao", PASSWORD, Role.FUNDER)
    data = yaml.safe_load(path.read_text())
    assert data["app"]["auth"]["users"]["bao"]["role"] == "funder"
    assert authenticate("bao", PASSWORD, load_auth(path)) == User("bao", Role.FUNDER)


@pytest.mark.parametrize("content,message", [
    ('[app.auth.users.amira]\nrole = "coordinator"\n', "password_hash"),
    ('[app.auth.users.amira]\npassword_hash = "$2b$12$abc"\nrole = "admin"\n', "role"),
    ('[app.auth]\nusers = "everyone"\n', "table of users"),
    ("[app.auth\n", "cannot be read"),
])
def test_a_broken_auth_section_fails_closed(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "secrets.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(AuthConfigError, match=message):
        load_auth(path)


def test_passwords_and_names_are_checked(tmp_path: Path) -> None:
    with pytest.raises(AuthConfigError, match="at least"):
        hash_password("short")
    with pytest.raises(AuthConfigError, match="72 bytes"):
        hash_password("é" * 40)
    with pytest.raises(AuthConfigError, match="user name"):
        add_user(tmp_path / "s.toml", 'bad"name]', PASSWORD, "funder")


def test_cli_user_add(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "secrets.toml"
    monkeypatch.setenv(ENV_AUTH_FILE, str(path))
    result = runner.invoke(app, ["user", "add", "funder1", "--role", "funder", "--password-stdin"],
                           input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert authenticate("funder1", PASSWORD) == User("funder1", Role.FUNDER)  # read via $CASELOAD_AUTH_FILE
    result = runner.invoke(app, ["user", "add", "x", "--role", "funder"], input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    assert PASSWORD not in result.output
    result = runner.invoke(app, ["user", "add", "y", "--role", "boss", "--password-stdin"], input=PASSWORD + "\n")
    assert result.exit_code == 2 and "coordinator, manager, funder" in result.output
    result = runner.invoke(app, ["user", "add", "z", "--role", "funder", "--password-stdin"], input="short\n")
    assert result.exit_code == 2 and "at least" in result.output

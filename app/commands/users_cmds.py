"""``gridpatrol users …``: manage application users, roles and scopes, lockouts and the demo accounts.

Every command runs one :mod:`services.users` operation as the system (the administrator on the server); a
refused request prints ``error: …`` and exits 1.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from cases.models import ROLES

ROLE_CHOICE = click.Choice(list(ROLES))
DISTRICT_HELP = "area_id of the district a district-scoped account (二级平台) works in; omit for city-wide."


def _context() -> Any:
    from services.context import open_context

    return open_context(click.get_current_context().find_root().obj["db_url"])


def _call(operation: Callable[..., Any], request: Any) -> Any:
    """Run a :mod:`services.users` operation as the system; a refused request exits 1."""
    from services.errors import ServiceError

    try:
        return operation(_context(), request)
    except ServiceError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(1)


@click.group(name="users")
def users_group() -> None:
    """Manage application users, roles and scopes."""


@users_group.command(name="add")
@click.argument("username")
@click.option("--role", type=ROLE_CHOICE, required=True)
@click.option("--inspector", "inspector_id", default=None, help="The inspector_id an inspector account is.")
@click.option("--department", default=None, help="The department a department account belongs to.")
@click.option("--district", default=None, help=DISTRICT_HELP)
@click.option(
    "--password",
    default=None,
    help="Password (at least 8 characters); generated and printed when omitted.",
)
def users_add_cmd(
    username: str,
    role: str,
    inspector_id: str | None,
    department: str | None,
    district: str | None,
    password: str | None,
) -> None:
    """Create a user; prints the password when it was generated.

    Example: gridpatrol users add chief --role manager
    """
    from services.users import CreateUser, create_user

    request = CreateUser(username, role, password, inspector_id, department, district)
    result = _call(create_user, request)
    click.echo(f"created {role} {username} with password {result.password or '(as given)'}")


@users_group.command(name="list")
def users_list_cmd() -> None:
    """List users, their roles and scopes (never their passwords)."""
    import pandas as pd

    from services.users import list_users

    for user in list_users(_context()).to_frame().to_dict("records"):
        locked = (
            "" if pd.isna(user["locked_until"]) else f" locked until {user['locked_until']:%Y-%m-%d %H:%M}Z"
        )
        extra = user["inspector_id"] or user["department"] or ""
        district = f" district {user['district']}" if user["district"] else ""
        inactive = "" if user["active"] else " (deactivated)"
        click.echo(f"{user['username']:<26} {user['role']:<11} {extra}{district}{locked}{inactive}")


def _ref_command(name: str, operation: str, done: str, doc: str) -> click.Command:
    @click.argument("username")
    def command(username: str) -> None:
        import services.users as users

        _call(getattr(users, operation), users.UserRef(username))
        click.echo(f"{done} {username}")

    command.__doc__ = doc
    return users_group.command(name=name)(command)


_DEACTIVATE = "Deactivate a user: no more logins, and every open session ends at once."
_ACTIVATE = "Let a deactivated user log in again."
users_disable_cmd = _ref_command("disable", "deactivate_user", "disabled", _DEACTIVATE)
users_deactivate_cmd = _ref_command("deactivate", "deactivate_user", "deactivated", _DEACTIVATE)
users_enable_cmd = _ref_command("enable", "reactivate_user", "enabled", _ACTIVATE)
users_activate_cmd = _ref_command("activate", "reactivate_user", "activated", _ACTIVATE)
users_unlock_cmd = _ref_command("unlock", "unlock_user", "unlocked", "Lift a lockout after failed logins.")


@users_group.command(name="role")
@click.argument("username")
@click.option("--role", type=ROLE_CHOICE, required=True)
@click.option("--inspector", "inspector_id", default=None, help="The inspector_id of an inspector account.")
@click.option("--department", default=None, help="The department of a department account.")
@click.option("--district", default=None, help=DISTRICT_HELP)
def users_role_cmd(
    username: str, role: str, inspector_id: str | None, department: str | None, district: str | None
) -> None:
    """Change a user's role and scope (their open sessions end at once)."""
    from services.users import RoleChange, change_role

    _call(change_role, RoleChange(username, role, inspector_id, department, district))
    scope = f" in district {district}" if district else ""
    click.echo(f"{username} is now {role}{scope}")


def _set_password(username: str, password: str | None) -> None:
    from services.users import PasswordReset, reset_password

    result = _call(reset_password, PasswordReset(username, password))
    click.echo(f"new password of {username}: {result.password or '(as given)'}")


_PASSWORD_HELP = "The new password; generated and printed when omitted."
_PASSWORD_DOC = "Set a new password, lift a lockout and end the user's open sessions."


@users_group.command(name="passwd", help=_PASSWORD_DOC)
@click.argument("username")
@click.option("--password", default=None, help=_PASSWORD_HELP)
def users_passwd_cmd(username: str, password: str | None) -> None:
    _set_password(username, password)


@users_group.command(name="reset-password", help=_PASSWORD_DOC)
@click.argument("username")
@click.option("--password", default=None, help=_PASSWORD_HELP)
def users_reset_password_cmd(username: str, password: str | None) -> None:
    _set_password(username, password)


@users_group.command(name="demo")
@click.option("--inspector", "inspector_id", default=None, help="Inspector the demo inspector account is.")
@click.option(
    "--out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File the new passwords are appended to (mode 0600)  [default: <data dir>/demo-users.txt].",
)
def users_demo_cmd(inspector_id: str | None, out: Path | None) -> None:
    """Create the demo users (one per role, one per department, a district supervisor) and print their
    passwords (kept in a file only its owner may read)."""
    from cases.users import append_passwords
    from services.users import create_demo_users

    context = _context()
    out = out or context.data_dir / "demo-users.txt"
    created = _call(create_demo_users, inspector_id)
    if created:
        append_passwords(out, created)
    if out.exists():
        click.echo(f"demo users and passwords ({out}, readable by its owner only):")
        click.echo(out.read_text(encoding="utf-8").rstrip())


COMMANDS = [users_group]

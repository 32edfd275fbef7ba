"""``rostro admin password`` (the Studio's sign-in) and ``rostro notebook`` (JupyterLab with
``ROSTRO_ENDPOINT`` and ``ROSTRO_KEY`` set for a resource)."""

from __future__ import annotations

import argparse
import getpass
import importlib.util
import os
import shlex
import sys
from pathlib import Path

from rostro.cli.service_cmd import DEFAULT_HOST, DEFAULT_PORT, endpoint_url
from rostro.store import resources as store_resources
from rostro.store.db import open_database

NOTEBOOK_EXTRA = "pip install 'rostro[notebook]'"


def _read_password(args: argparse.Namespace) -> str:
    if args.stdin or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("New Studio password: ")
    if getpass.getpass("Repeat it: ") != first:
        raise ValueError("the two passwords differ")
    return first


def _admin_password(args: argparse.Namespace) -> int:
    from rostro.studio.accounts import change_password, new_password

    password = new_password() if args.generate else _read_password(args)
    change_password(open_database(), password)
    if args.generate:
        print(f"Studio password: {password}")
    print("Studio password changed; every Studio session was signed out.")
    return 0


def default_notebook_dir() -> Path:
    """The repository's notebooks/ folder (source checkouts), else the current folder."""
    checkout = Path(__file__).resolve().parents[3] / "notebooks"
    return checkout if checkout.is_dir() else Path.cwd()


def notebook_environment(resource: str | None, endpoint: str) -> dict[str, str]:
    """Return ROSTRO_ENDPOINT, ROSTRO_KEY and ROSTRO_RESOURCE for ``resource`` (default: the
    first resource)."""
    with open_database(create=False).transaction() as connection:
        if resource is None:
            infos = store_resources.list_resources(connection)
            if not infos:
                raise LookupError("no resource yet; start `rostro serve` once to create one")
            info = infos[0]
        else:
            info = store_resources.get_resource(connection, resource)
    return {"ROSTRO_ENDPOINT": endpoint, "ROSTRO_KEY": info.key1, "ROSTRO_RESOURCE": info.name}


def _notebook(args: argparse.Namespace) -> int:
    endpoint = args.endpoint or endpoint_url(DEFAULT_HOST, DEFAULT_PORT)
    values = notebook_environment(args.resource, endpoint)
    if args.print_env:
        for name, value in values.items():
            print(f"export {name}={shlex.quote(value)}")
        return 0
    if importlib.util.find_spec("jupyterlab") is None:
        raise RuntimeError(f"JupyterLab is not installed; install the notebook extra: "
                           f"{NOTEBOOK_EXTRA}")
    folder = Path(args.dir) if args.dir else default_notebook_dir()
    print(f"JupyterLab in {folder} with resource '{values['ROSTRO_RESOURCE']}' at {endpoint}",
          flush=True)
    extra = args.jupyter[1:] if args.jupyter[:1] == ["--"] else args.jupyter
    command = [sys.executable, "-m", "jupyterlab", f"--notebook-dir={folder}", *extra]
    if args.no_browser:
        command.append("--no-browser")
    # Become JupyterLab: Ctrl-C and signals reach it directly, and no process is left behind.
    os.execve(sys.executable, command, dict(os.environ, **values))
    return 0  # not reached


def add_commands(commands: argparse._SubParsersAction) -> None:
    admin = commands.add_parser("admin", help="the Studio's admin account")
    sub = admin.add_subparsers(dest="action", required=True, metavar="ACTION")
    password = sub.add_parser(
        "password", help="set the Studio admin password (signs every session out)",
        description="Set the password of the Studio (/studio). Prompts twice; reads one line "
                    "from standard input when it is not a terminal or with --stdin.")
    password.add_argument("--stdin", action="store_true", help="read the password from stdin")
    password.add_argument("--generate", action="store_true",
                          help="generate a random password and print it")
    password.set_defaults(handler=_admin_password)

    notebook = commands.add_parser(
        "notebook", help="open JupyterLab with ROSTRO_ENDPOINT and ROSTRO_KEY set",
        description="Start JupyterLab (the notebook extra) in the notebooks folder with "
                    "ROSTRO_ENDPOINT, ROSTRO_KEY and ROSTRO_RESOURCE set for a resource.")
    notebook.add_argument("--resource", help="resource whose key 1 is used (default: the first)")
    notebook.add_argument("--endpoint", help=f"endpoint (default "
                                             f"{endpoint_url(DEFAULT_HOST, DEFAULT_PORT)})")
    notebook.add_argument("--dir", help="notebook folder (default: the repository's notebooks/)")
    notebook.add_argument("--no-browser", action="store_true", help="do not open a browser")
    notebook.add_argument("--print-env", action="store_true",
                          help="only print the variables as shell export lines")
    notebook.add_argument("jupyter", nargs=argparse.REMAINDER,
                          help="further arguments for JupyterLab (after --)")
    notebook.set_defaults(handler=_notebook)

"""``rostro admin password`` (the Studio's sign-in) and ``rostro notebook`` (the shipped notebooks
copied into a working folder, and JupyterLab there with ``ROSTRO_ENDPOINT`` and ``ROSTRO_KEY``
set for a resource)."""

from __future__ import annotations

import argparse
import getpass
import importlib.util
import os
import shlex
import sys
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
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


# The working folder `rostro notebook` copies the shipped notebooks into (relative to the
# current folder): the package's own copies stay pristine, and a wheel behaves as a checkout.
DEFAULT_NOTEBOOK_DIR = "rostro-notebooks"


@dataclass(frozen=True)
class NotebookCopy:
    """What ``copy_notebooks`` did: names copied, and names left alone (already there)."""

    folder: Path
    copied: tuple[str, ...]
    kept: tuple[str, ...]


def shipped_notebooks() -> list[Traversable]:
    """The notebooks shipped in the package (``rostro/notebooks/*.ipynb``), by name."""
    return sorted((item for item in resources.files("rostro").joinpath("notebooks").iterdir()
                   if item.name.endswith(".ipynb")), key=lambda item: item.name)


def copy_notebooks(folder: Path) -> NotebookCopy:
    """Copy each shipped notebook missing from ``folder`` (created if needed) into it.

    A notebook already there is never overwritten: it may be the user's edited copy (delete it
    to get the shipped one back)."""
    folder.mkdir(parents=True, exist_ok=True)
    copied, kept = [], []
    for notebook in shipped_notebooks():
        target = folder / notebook.name
        if target.exists():
            kept.append(notebook.name)
            continue
        target.write_bytes(notebook.read_bytes())
        copied.append(notebook.name)
    return NotebookCopy(folder, tuple(copied), tuple(kept))


def _report_copy(result: NotebookCopy) -> None:
    if result.copied:
        print(f"Copied {', '.join(result.copied)} into {result.folder}")
    if result.kept:
        print(f"Kept your copies of {', '.join(result.kept)} in {result.folder} "
              f"(delete one to get the shipped version again)")


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
    folder = Path(args.dir or DEFAULT_NOTEBOOK_DIR).resolve()
    if args.no_launch:  # preparing the folder needs no resource (the server may not be up yet)
        _report_copy(copy_notebooks(folder))
        return 0
    endpoint = args.endpoint or endpoint_url(DEFAULT_HOST, DEFAULT_PORT)
    values = notebook_environment(args.resource, endpoint)
    if args.print_env:
        for name, value in values.items():
            print(f"export {name}={shlex.quote(value)}")
        return 0
    if importlib.util.find_spec("jupyterlab") is None:
        raise RuntimeError(f"JupyterLab is not installed; install the notebook extra: "
                           f"{NOTEBOOK_EXTRA}")
    _report_copy(copy_notebooks(folder))
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
        description="Copy the shipped notebooks into a working folder (only those missing "
                    "there: your edited copies are kept) and start JupyterLab (the notebook "
                    "extra) in it with ROSTRO_ENDPOINT, ROSTRO_KEY and ROSTRO_RESOURCE set for "
                    "a resource.")
    notebook.add_argument("--resource", help="resource whose key 1 is used (default: the first)")
    notebook.add_argument("--endpoint", help=f"endpoint (default "
                                             f"{endpoint_url(DEFAULT_HOST, DEFAULT_PORT)})")
    notebook.add_argument("--dir", help=f"working folder for the notebooks (default "
                                        f"./{DEFAULT_NOTEBOOK_DIR})")
    notebook.add_argument("--no-browser", action="store_true", help="do not open a browser")
    notebook.add_argument("--no-launch", action="store_true",
                          help="only copy the notebooks into the folder (needs no resource); "
                               "do not start JupyterLab")
    notebook.add_argument("--print-env", action="store_true",
                          help="only print the variables as shell export lines")
    notebook.add_argument("jupyter", nargs=argparse.REMAINDER,
                          help="further arguments for JupyterLab (after --)")
    notebook.set_defaults(handler=_notebook)

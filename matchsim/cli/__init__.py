"""The ``matchsim`` command line: parse arguments, call one library function, render.

Only this package imports typer. ``_app`` holds the app and the error boundary; each
``cmd_*`` module registers one verb (or a few related ones) and is found automatically,
so adding a verb is adding a module.
"""

from matchsim.cli._app import app, load_commands, main

__all__ = ["app", "load_commands", "main"]

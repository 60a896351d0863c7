"""Command modules of the ``gridpatrol`` CLI.

Each module here defines click commands and lists them in a module-level ``COMMANDS`` list (top-level
commands) and optionally ``IMPORT_COMMANDS`` (subcommands of ``gridpatrol import``); ``app.cli`` registers
every module's commands. Modules import only click at module level (heavy imports go inside the
command functions) so ``gridpatrol --help`` stays fast.
"""

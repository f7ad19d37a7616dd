"""The ``kehu`` command: a thin wrapper over manage.py plus Kehu's own commands.

    kehu serve [--dev]          serve the pages and the API
    kehu worker                 run background tasks
    kehu demo [--size N]        load the demo company (idempotent)
    kehu org add "R/A/T"        add nodes to the company tree
    kehu user add NAME --role R [--role R…] [--node "R/A/T"] [--password P]
    kehu token NAME             print a new API token
    kehu migrate, kehu check …  any other Django management command

This interface is public: operators script deployments with it. Keep it stable.
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kehu.settings")
    if args[:1] == ["serve"] and "--dev" not in args:
        # A plain `kehu serve` is a production server unless told otherwise.
        os.environ.setdefault("KEHU_ENV", "production")
    if not args:
        print(__doc__)
        return
    from django.core.exceptions import ImproperlyConfigured

    try:
        from django.core.management import execute_from_command_line

        execute_from_command_line(["kehu", *args])
    except ImproperlyConfigured as exc:
        print(f"kehu: configuration error: {exc}", file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()

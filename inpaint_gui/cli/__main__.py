"""`python -m inpaint_gui.cli ...` (torchrun starts training this way) is the `inpaint` command."""

from inpaint_gui.runtime import cli_main

if __name__ == "__main__":
    raise SystemExit(cli_main())

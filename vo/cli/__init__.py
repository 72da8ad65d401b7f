"""The `vo` command line (L6): imports any layer below; `vo.cli.main:cli` is the entry point."""

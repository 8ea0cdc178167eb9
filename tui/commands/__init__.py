"""The whole command line: the parser and dispatch (`tui.commands.main`), and one module per
command family. Nothing outside this package parses arguments (an import-linter contract
says so); the commands call the engine below them (`tui.wiring`, `tui.ops`, `tui.lab`,
`tui.sim`)."""

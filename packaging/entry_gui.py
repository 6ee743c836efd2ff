"""Bundle entry point of the windowed app."""

from vspectrum_app.cli import main

raise SystemExit(main([]))

"""Bundle entry point of the console CLI (also what the app's background jobs run)."""

from vspectrum_app.cli import main

raise SystemExit(main())

from vspectrum_app.cli import main

raise SystemExit(main())

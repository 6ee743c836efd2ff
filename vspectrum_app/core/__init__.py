"""Qt-free plumbing shared by every part of the app: paths, settings, SQLite, jobs."""

"""The panes of the main window. To add one: write a QWidget taking (ctx, parent) in a
module here and add a line to PANES (title, module, class); it is imported on first show."""

PANES: list[tuple[str, str, str]] = [
    ("Library", "vspectrum_app.gui.panes.library", "LibraryPane"),
    ("Crawl", "vspectrum_app.gui.panes.crawl", "CrawlPane"),
    ("Benchmark", "vspectrum_app.gui.panes.benchmark", "BenchmarkPane"),
    ("Results", "vspectrum_app.gui.panes.results", "ResultsPane"),
    ("Persona", "vspectrum_app.gui.panes.persona", "PersonaPane"),
    ("Annotation", "vspectrum_app.gui.panes.annotation", "AnnotationPane"),
    ("Settings", "vspectrum_app.gui.panes.settings", "SettingsPane"),
]

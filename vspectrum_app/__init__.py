"""Value-Spectrum Studio: measure the value preferences of vision-language models.

The package is a Qt-free core (``core``, ``library``, ``bench``, ...) that the CLI, the tests and
the GUI (``gui``, the only package that imports Qt) all drive.
"""

__version__ = "0.1.0"

"""The measuring protocol's fixed numbers, one definition each (crawl, simulator, persona, CLI
and window read them from here)."""

# The paper's screenshot moment: each short video is captured this many seconds in.
CAPTURE_AT_S = 2.0
# Seconds between videos on a real site when neither the command nor the settings say
# (the simulator needs none).
CRAWL_DELAY_S = 1.0

"""The watched browser crawl: Playwright drives Chromium through a short-video feed and
captures a screenshot 2 s into each video, with its link, platform and post date."""

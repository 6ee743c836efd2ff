"""The simulated short-video platform: a feed served on loopback with a transparent,
seeded recommender and a virtual clock, so that crawls and persona studies run offline and
repeat exactly."""

"""Persona sessions (paper Section 5): a VLM role-plays a persona while scrolling a feed."""

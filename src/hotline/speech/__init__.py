"""Offline Mandarin (and English, Russian) speech for Asterisk: espeak-ng and sox."""

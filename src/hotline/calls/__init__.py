"""Live calls: one task and one inbox per call, keyed by Asterisk's linkedid."""

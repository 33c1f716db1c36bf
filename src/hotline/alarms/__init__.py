"""Alarm data from one-key terminals: SCAIP messages received over SIP, kept for the call."""

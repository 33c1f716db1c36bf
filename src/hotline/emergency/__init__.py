"""Emergencies (R8-R12): the elder, the operator, 120, the family and the parties of R10 in
one recorded conference; terminals escalated when nobody answers; alarm data tied to calls."""

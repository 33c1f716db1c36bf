"""The automated satisfaction survey after a service (R21): the caller answers on the
keypad; a dissatisfied answer reopens the case to its owner (R20)."""

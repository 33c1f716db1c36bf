"""Call controller for a city's elderly-care hotline."""

__version__ = "0.2.0"

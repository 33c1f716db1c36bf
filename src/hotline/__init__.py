"""Call controller for a city's elderly-care hotline."""

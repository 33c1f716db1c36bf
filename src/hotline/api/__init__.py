"""The HTTP API (aiohttp): health, and read access to calls and cases."""

"""The directories behind case handling: service providers (R16), institutions (R17),
departments (R18), communities, streets and government offices (R23)."""

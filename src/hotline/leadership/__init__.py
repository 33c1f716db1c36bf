"""Leadership (issue 16): of any number of `hotline serve` processes sharing one
PostgreSQL, exactly one leads; the others stand by, warm, and take over within seconds."""

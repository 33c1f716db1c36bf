"""Operator queues: who is offered which waiting call, and when."""

"""The live event stream: the bus every part publishes domain events to, the projection of
the floor folded from them, and the WebSocket route that serves both to subscribers."""

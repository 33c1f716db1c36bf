"""supervision: a supervisor listens to, whispers to, or barges into an operator's live call
(R26), through a snoop channel on the operator's leg."""

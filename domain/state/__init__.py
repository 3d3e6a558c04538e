"""The state rules decide from: each a pure fold (`evolve`) over the events of its stream."""

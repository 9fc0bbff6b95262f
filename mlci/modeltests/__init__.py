"""Model tests: the pytest runner, results, shards, plugin and materialisation."""

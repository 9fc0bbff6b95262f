"""The comparison between base and head, and the collectors that build it."""

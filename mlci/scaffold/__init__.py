"""Starting points: mlci init and mlci demo."""

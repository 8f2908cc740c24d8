"""Models come with their issue."""

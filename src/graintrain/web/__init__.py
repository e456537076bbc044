"""The web side of graintrain: the interactive article, served by FastAPI or exported as files."""

"""The app's routers, each wired in ``graintrain.web.main``."""

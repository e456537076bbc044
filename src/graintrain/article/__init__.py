"""The interactive article: Markdown chapters, figures drawn from trained runs, and the site built
from them (served live by ``graintrain.web`` or written as static files)."""

"""Files graintrain serves or writes that come from installed packages, never from a CDN."""

from pathlib import Path

import plotly

PLOTLY_JS = Path(plotly.__file__).parent / "package_data" / "plotly.min.js"  # shipped inside plotly

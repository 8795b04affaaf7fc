"""Pictures without system packages: graph layouts and charts written as SVG by the tool itself."""

"""The chart stage: resolve a service into a ChartSpec, compile it with the base chart, build
chart directories (with a cache), and the value profiles charts document."""

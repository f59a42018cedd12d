from tests.golden import refresh

refresh()

"""feedgate's app as a module attribute, for granian (which has no app-factory option): benchmarks only."""

from feedgate.app import create_app

app = create_app()

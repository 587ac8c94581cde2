"""Real-protocol fakes: servers the tests talk to over sockets."""

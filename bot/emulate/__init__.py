"""``vestnik emulate``: realistic event streams posted to a running service (demos, load tests,
integrator dry runs). :mod:`.stories` makes coherent stories, :mod:`.runner` posts them."""

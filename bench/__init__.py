"""The benchmark: dataset generator, runner, textbook DRF baseline. Not imported by the service."""

"""The command line and its commands: generate, check, build, run, support, bench."""

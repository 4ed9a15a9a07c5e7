"""`python -m notesynth.codes ...`: the codes commands without the main notesynth CLI."""
from notesynth.codes.cli import app

app(prog_name="notesynth codes")

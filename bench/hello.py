"""The baseline for bench/http.py: a bare Flask app that says hello, nothing else."""

from flask import Flask

app = Flask(__name__)


@app.get("/")
def hello() -> str:
    """Say hello."""
    return "Hello, world!"

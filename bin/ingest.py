"""`spark-submit bin/ingest.py --config conf/cluster.yaml [options]`: the `fink-like ingest` job."""

from fink_like.cli.submit import submit

if __name__ == "__main__":
    submit("ingest")

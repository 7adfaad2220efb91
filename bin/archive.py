"""`spark-submit bin/archive.py --config conf/cluster.yaml [options]`: the `fink-like archive` job."""

from fink_like.cli.submit import submit

if __name__ == "__main__":
    submit("archive")

"""`spark-submit bin/distribute.py --config conf/cluster.yaml [options]`: the `fink-like distribute` job."""

from fink_like.cli.submit import submit

if __name__ == "__main__":
    submit("distribute")

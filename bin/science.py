"""`spark-submit bin/science.py --config conf/cluster.yaml [options]`: the `fink-like science` job."""

from fink_like.cli.submit import submit

if __name__ == "__main__":
    submit("science")

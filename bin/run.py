"""`spark-submit bin/run.py --config conf/cluster.yaml [options]`: the `fink-like run` job."""

from fink_like.cli.submit import submit

if __name__ == "__main__":
    submit("run")

"""`spark-submit bin/pipeline.py --config conf/cluster.yaml [options]`: the `fink-like pipeline` job."""

from fink_like.cli.submit import submit

if __name__ == "__main__":
    submit("pipeline")

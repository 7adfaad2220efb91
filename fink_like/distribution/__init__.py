"""Distribution: enriched alerts, Avro-encoded with versioned schemas, on filtered topics."""

from fink_like.distribution.encoder import EncodedBatch, decode_message, encode_batch
from fink_like.distribution.publisher import publish

__all__ = ["EncodedBatch", "decode_message", "encode_batch", "publish"]

"""The nearby-friends service (Python, Flask): remembers where a user last posted from, for a day."""

import hashlib
import logging

import redis
from flask import Flask, request

app = Flask(__name__)
cache = redis.Redis(host="nearby-cache.internal")
metrics = logging.getLogger("nearby_friends.metrics")
TRACE_PAYLOADS = False


@app.route("/api/v1/nearby_friends", methods=["POST"])
def update_last_location():
    body = request.get_json()
    user_id = body["user_id"]
    cache.setex(f"last_location:{user_id}", 86400, body["location"])
    # Masked: only a hash of the user id reaches the metrics log.
    metrics.info("update %s", hashlib.sha256(str(user_id).encode()).hexdigest())
    # Dead branch: payload tracing is off.
    if TRACE_PAYLOADS:
        metrics.debug("payload %s", body["location"])
    return {"ok": True}

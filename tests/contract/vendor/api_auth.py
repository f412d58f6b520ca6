"""The vendor's `api_auth` helper for the v4 API, as its documentation describes it, re-typed: the samples
import it, and an operator sets the two credential lines. Nothing here imports feedgate: the conformance
run with this module proves that a signature made the vendor's way, by the vendor's recipe, is accepted.

Signing (the documents' own words): the parameters plus `_owner` and `_timestamp` as JSON, compressed
with zlib at level 9, base64-encoded: that is `msg`; `sig` is the hex HMAC-SHA256 of `msg` keyed with the
API key.
"""

import base64
import hashlib
import hmac
import json
import time
import zlib


class APICredentials:
    """Stores what an API call needs."""

    @property
    def user_id(self):
        return ''  # Set your user ID.

    @property
    def secret(self):
        return ''  # Set your API key.


class APIParams:
    """Builds the signed query parameters for one call."""

    def __init__(self, credentials):
        self.credentials = credentials

    def get_params(self, data):
        data = dict(data)
        data['_owner'] = self.credentials.user_id
        data['_timestamp'] = int(time.time())
        msg = base64.b64encode(zlib.compress(json.dumps(data).encode('utf-8'), 9)).decode('ascii')
        sig = hmac.new(self.credentials.secret.encode('utf-8'), msg.encode('utf-8'), hashlib.sha256).hexdigest()
        return {'msg': msg, 'sig': sig}

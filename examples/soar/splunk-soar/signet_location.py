def signet_location(file_hash=None, process_name=None, **kwargs):
    """
    Build the HTTP app's "location" for one Signet lookup:
    /v1/signatures/<file_hash>?name=<process_name>, both percent-encoded, so
    that a process name with spaces, &, #, + or % reaches Signet as it is.

    Args:
        file_hash (CEF type: md5, sha256): The process binary's md5
            (or its sha256 on Carbon Black Cloud).
        process_name (CEF type: process name, file name): The process name
            the alert saw.

    Returns a JSON-serializable object that implements the configured data paths:
        location: The path and query for the HTTP app's "get data" action.
    """
    ############################ Custom Code Goes Below This Line #################################
    import json
    from urllib.parse import quote, urlencode

    if not file_hash or not process_name:
        raise ValueError("signet_location needs both a file hash and a process name")
    query = urlencode({"name": process_name}, quote_via=quote)
    outputs = {"location": "/v1/signatures/{}?{}".format(quote(str(file_hash), safe=""), query)}

    assert json.dumps(outputs)  # raises if the outputs are not JSON-serializable
    return outputs

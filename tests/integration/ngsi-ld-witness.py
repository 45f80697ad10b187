# A foreign witness: the third-party NGSI-LD client ngsildclient (PyPI) reads machi's entities the
# way it reads any context broker, and prints what it understood as JSON for the test to compare.
import json
import sys

from ngsildclient import Client

host, port = sys.argv[1], int(sys.argv[2])
client = Client(hostname=host, port=port, verbose=False)
seen = {}
for entity_type in ["CrowdFlowObserved", "FloodMonitoring", "Device", "Alert"]:
    seen[entity_type] = [e.to_dict() for e in client.query(type=entity_type)]
seen["one"] = client.get("urn:ngsi-ld:FloodMonitoring:fs-takeo-004").to_dict()
seen["vendor"] = str(client.broker.vendor)
client.close()
print(json.dumps(seen))
